//! From the mask table to every output of a run: attrition, criteria, cohorts, strata, data
//! quality, the HTML report and the manifest, all under disclosure control, written atomically.
