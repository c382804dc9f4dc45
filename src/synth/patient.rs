//! One synthetic patient: person row, diagnoses (primary, metastases, comorbidities) and the
//! molecular profile with its test reports. Each patient draws from its own ChaCha stream
//! (key from the seed, stream = patient number), so rows never depend on chunking or threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::alterations::{self as alt, Class};
use super::epidemiology::{self as epi, Site, Tumour};
use super::random::{
    between, chance, exponential, log_normal, normal, pick, round, unit, weighted,
};
use super::tables::Tables;
use super::{care, clinical, date, EXTRACTED_ON, PERIOD_END, PERIOD_START};

/// The edge cases a few percent of patients carry (see `clinical.rs` for what each writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    HbExactly9GramsPerDecilitre,
    HbExactly90GramsPerLitre,
    AncExactly1_5,
    PlateletsExactly75,
    EcogExactly2,
    LvefExactly40,
    ClearanceNear40,
    Window30And31Days,
    AfterIndex,
    SameDateDisagree,
    HbUnconvertibleUnit,
    PlateletsUnconvertibleUnit,
    EcogOutOfDomain,
    NegativePlatelets,
}

const EDGES: [Edge; 14] = [
    Edge::HbExactly9GramsPerDecilitre,
    Edge::HbExactly90GramsPerLitre,
    Edge::AncExactly1_5,
    Edge::PlateletsExactly75,
    Edge::EcogExactly2,
    Edge::LvefExactly40,
    Edge::ClearanceNear40,
    Edge::Window30And31Days,
    Edge::AfterIndex,
    Edge::SameDateDisagree,
    Edge::HbUnconvertibleUnit,
    Edge::PlateletsUnconvertibleUnit,
    Edge::EcogOutOfDomain,
    Edge::NegativePlatelets,
];

/// Share of patients that carry one edge case (each of the 14 kinds at ~0.36 %).
const EDGE_SHARE: f64 = 0.05;

/// The `person_id` of patient number `n` (0-based): odd, so that the even id after it can carry
/// the patient's orphan rows and the extract stays sorted by `person_id`, as a registry's dump
/// would be (row-group statistics then prune by id, which `eligo run`'s partitions rely on).
pub fn person_id(n: u64) -> i64 {
    2 * n as i64 + 1
}

/// The id of the orphan rows written beside patient number `n`: in no person row.
pub fn orphan_id(n: u64) -> i64 {
    person_id(n) + 1
}

/// What later stages need to know about a patient.
pub struct Patient {
    pub id: i64,
    pub tumour: Tumour,
    pub oncotree: &'static str,
    pub female: bool,
    pub age: i32,
    /// The index date used for all relative dates, even when the person row's is null.
    pub idx: i32,
    pub primary_date: i32,
    pub liver_mets: bool,
    pub brain_mets: bool,
    pub edge: Option<Edge>,
    /// Genes of actionable drivers found (for prior targeted treatment).
    pub drivers: Vec<&'static str>,
}

/// Writes every row of patient number `n` (0-based) into `tables`.
pub fn generate(tables: &mut Tables, key: [u8; 32], n: u64, scratch: &mut String) {
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(n);
    let rng = &mut rng;
    let id = person_id(n);

    // --- person ------------------------------------------------------------------------------
    let site_ix = weighted(rng, epi::SITES, |s| s.cases);
    let site: &Site = &epi::SITES[site_ix];
    let male = if site.male_share >= 1.0 {
        true
    } else if site.tumour == Tumour::Breast {
        chance(rng, 0.01) // male breast cancer: ~1 % of cases
    } else {
        chance(rng, site.male_share)
    };
    let sex = if chance(rng, 1.0 / 2000.0) {
        "X" // out of domain: a data-quality finding, kept very rare
    } else if chance(rng, 0.002) {
        "U"
    } else if male {
        "M"
    } else {
        "F"
    };
    let idx = between(rng, PERIOD_START, PERIOD_END);
    let idx_year = date::year(idx);
    let (lo_age, sd) = match site.tumour {
        Tumour::Testis | Tumour::Hodgkin => (16.0, 12.0),
        _ => (18.0, 11.0),
    };
    let age = (site.mean_age + sd * normal(rng))
        .clamp(lo_age, 97.0)
        .round() as i32;
    let death = if chance(rng, 0.01) {
        Some(idx - between(rng, 1, 200)) // died before index: D0 fails
    } else if chance(rng, 0.32) {
        let d = idx + exponential(rng, 320.0) as i32;
        (d <= EXTRACTED_ON).then_some(d)
    } else {
        None
    };
    let region_ix = if chance(rng, 0.01) {
        None
    } else {
        Some(weighted(rng, epi::REGIONS, |r| r.1))
    };
    let p = &mut tables.person;
    p.person_id.append_value(id);
    p.sex.append_value(sex);
    p.birth_year
        .append_option((!chance(rng, 0.003)).then_some(idx_year - age));
    p.death_date.append_option(death);
    match region_ix {
        Some(r) => {
            let (name, _, hospitals) = epi::REGIONS[r];
            p.region.append_value(name);
            if chance(rng, 0.02) {
                p.site.append_null();
            } else {
                p.site.append_value(pick(rng, hospitals));
            }
        }
        None => {
            p.region.append_null();
            p.site.append_null();
        }
    }
    p.index_date
        .append_option((!chance(rng, 0.005)).then_some(idx));

    // --- primary cancer ----------------------------------------------------------------------
    let dotted = chance(rng, 0.65); // registries differ: `C34.1` or `C341`
    let histology = site.histology[weighted(rng, site.histology, |h| h.2)];
    let icd = site.icd10[between(rng, 0, site.icd10.len() as i32 - 1) as usize];
    let primary_date = idx - 14 - (exponential(rng, 500.0) as i32).min(5000);
    let morphology = (!chance(rng, 0.15)).then_some(histology.0);
    let oncotree = (!chance(rng, 0.4)).then_some(histology.1);
    let d = &mut tables.diagnosis;
    d.push(
        id,
        code(icd, dotted, scratch),
        primary_date,
        morphology,
        oncotree,
    );
    if chance(rng, 0.03) {
        // an earlier, different primary (a second cancer years before)
        let other = &epi::SITES[weighted(rng, epi::SITES, |s| s.cases)];
        if other.tumour != site.tumour && (other.male_share > 0.0 || !male) {
            let when = primary_date - between(rng, 4 * 365, 15 * 365);
            d.push(id, code(other.icd10[0], dotted, scratch), when, None, None);
        }
    }

    // --- extent and metastases ---------------------------------------------------------------
    let stage = unit(rng);
    let metastatic = stage < 0.60;
    let (liver_p, brain_p, bone_p) = match site.tumour {
        Tumour::Colon | Tumour::Rectum | Tumour::Pancreas => (0.5, 0.03, 0.15),
        Tumour::Lung => (0.25, 0.25, 0.35),
        Tumour::Melanoma => (0.3, 0.3, 0.2),
        Tumour::Breast => (0.35, 0.12, 0.5),
        Tumour::Prostate => (0.15, 0.02, 0.7),
        Tumour::Kidney => (0.2, 0.08, 0.3),
        _ => (0.25, 0.04, 0.25),
    };
    let mut liver_mets = false;
    let mut brain_mets = false;
    if metastatic {
        let span = (idx + 30 - primary_date).max(1);
        let mut met = |rng: &mut ChaCha8Rng, icd: &str, d: &mut super::tables::DiagnosisRows| {
            let when = primary_date + between(rng, 0, span);
            d.push(id, code(icd, dotted, scratch), when, None, None);
        };
        if chance(rng, liver_p) {
            liver_mets = true;
            met(rng, "C78.7", &mut tables.diagnosis);
        }
        if chance(rng, brain_p) {
            brain_mets = true;
            met(rng, "C79.3", &mut tables.diagnosis);
        }
        if chance(rng, bone_p) {
            met(rng, "C79.5", &mut tables.diagnosis);
        }
        if chance(rng, 0.25) {
            met(rng, "C78.0", &mut tables.diagnosis);
        }
        if chance(rng, 0.3) {
            met(rng, "C77.9", &mut tables.diagnosis);
        }
    }
    comorbidities(rng, tables, id, idx, !male && age <= 45, dotted, scratch);

    let edge =
        chance(rng, EDGE_SHARE).then(|| EDGES[between(rng, 0, EDGES.len() as i32 - 1) as usize]);
    let mut patient = Patient {
        id,
        tumour: site.tumour,
        oncotree: histology.1,
        female: !male,
        age,
        idx,
        primary_date,
        liver_mets,
        brain_mets,
        edge,
        drivers: Vec::new(),
    };
    molecular(rng, tables, &mut patient);
    clinical::generate(rng, tables, &patient, stage);
    care::generate(rng, tables, &patient);

    // orphan rows: a handful per 10,000 patients, with a person_id that is not in person
    if chance(rng, 0.001) {
        let orphan = orphan_id(n);
        tables.measurement.push(
            orphan,
            "718-7",
            idx - 3,
            11.2,
            "g/dL",
            Some(11.7),
            Some(15.3),
        );
        tables.diagnosis.push(orphan, "C18.7", idx - 90, None, None);
    }
}

/// The ICD-10 code with or without its dot.
fn code<'a>(dotted: &'a str, keep_dot: bool, scratch: &'a mut String) -> &'a str {
    if keep_dot || !dotted.contains('.') {
        return dotted;
    }
    scratch.clear();
    scratch.extend(dotted.chars().filter(|c| *c != '.'));
    scratch.as_str()
}

/// Cardiovascular, bleeding, malabsorption and pregnancy diagnoses at rough population rates
/// for older cancer patients; most before index, some after.
fn comorbidities(
    rng: &mut ChaCha8Rng,
    tables: &mut Tables,
    id: i64,
    idx: i32,
    childbearing: bool,
    dotted: bool,
    scratch: &mut String,
) {
    // (code, share of patients): AF ~7 %, heart failure ~4 %, stroke ~2 %, MI ~2 % ...
    const COMORBIDITY: &[(&str, f64)] = &[
        ("I10", 0.25),
        ("E11.9", 0.10),
        ("I48", 0.07),
        ("I50", 0.04),
        ("I20.0", 0.01),
        ("I63.9", 0.02),
        ("I61", 0.005),
        ("G45", 0.015),
        ("I21", 0.02),
        ("K92.2", 0.01),
        ("K25.0", 0.005),
        ("K90.0", 0.005),
        ("I26.9", 0.03),
    ];
    for &(icd, share) in COMORBIDITY {
        if chance(rng, share) {
            let when = if chance(rng, 0.1) {
                idx + between(rng, 1, 200) // recorded after index: must be ignored
            } else {
                idx - (exponential(rng, 300.0) as i32).min(3000)
            };
            tables
                .diagnosis
                .push(id, code(icd, dotted, scratch), when, None, None);
        }
    }
    if childbearing && chance(rng, 0.02) {
        let icd = if chance(rng, 0.5) { "O09.9" } else { "O26.9" };
        let when = idx - between(rng, 0, 200);
        tables
            .diagnosis
            .push(id, code(icd, dotted, scratch), when, None, None);
    }
}

/// A finding of the patient's tumour, before a test's method decides whether it reports it.
struct Finding {
    gene: &'static str,
    class: Class,
    alteration: &'static str,
    actionable: bool,
    copy_number: f64,
}

/// The tumour's alterations, then 0-2 test reports that show what their method can see.
fn molecular(rng: &mut ChaCha8Rng, tables: &mut Tables, patient: &mut Patient) {
    let tumour = patient.tumour;
    let mut findings: Vec<Finding> = Vec::new();
    let add = |rng: &mut ChaCha8Rng, f: &alt::Driver, findings: &mut Vec<Finding>| {
        let copy_number = if chance(rng, 0.85) {
            round(6.0 + 24.0 * unit(rng).powi(2), 1) // above the usual threshold of 6
        } else {
            round(4.0 + 1.9 * unit(rng), 1) // gained, but below threshold
        };
        findings.push(Finding {
            gene: f.gene,
            class: f.class,
            alteration: pick(rng, f.alterations),
            actionable: f.actionable,
            copy_number,
        });
    };
    if tumour == Tumour::Lung {
        // NSCLC drivers are exclusive; squamous carries them rarely, small-cell not at all
        let scale = match patient.oncotree {
            "LUAD" | "LCLC" => 1.0,
            "LUSC" => 0.15,
            _ => 0.0,
        };
        let mut x = unit(rng);
        for driver in alt::NSCLC_EXCLUSIVE {
            let p = driver.prevalence * scale;
            if x < p {
                add(rng, driver, &mut findings);
                if driver.gene == "EGFR" && chance(rng, 0.12) {
                    findings.push(Finding {
                        gene: "EGFR",
                        class: Class::Snv,
                        alteration: "T790M",
                        actionable: false,
                        copy_number: 0.0,
                    });
                }
                break;
            }
            x -= p;
        }
    }
    let drivers = alt::drivers(tumour);
    // RAS/BRAF are exclusive in colorectal cancer, BRAF/NRAS in melanoma
    let exclusive = match tumour {
        Tumour::Colon | Tumour::Rectum => 3,
        Tumour::Melanoma => 2,
        _ => 0,
    };
    let mut x = unit(rng);
    for driver in &drivers[..exclusive] {
        if x < driver.prevalence {
            add(rng, driver, &mut findings);
            break;
        }
        x -= driver.prevalence;
    }
    for driver in &drivers[exclusive..] {
        if tumour != Tumour::Lung && chance(rng, driver.prevalence) {
            add(rng, driver, &mut findings);
        }
    }
    if chance(rng, alt::NTRK_PREVALENCE) {
        let (gene, fusion, _) = alt::NTRK_FUSION[weighted(rng, alt::NTRK_FUSION, |f| f.2)];
        findings.push(Finding {
            gene,
            class: Class::Fusion,
            alteration: fusion,
            actionable: true,
            copy_number: 0.0,
        });
    }
    let n_actionable_before_passengers = findings.len();
    for &(gene, class, alteration, share) in alt::passengers(tumour) {
        if chance(rng, share) {
            findings.push(Finding {
                gene,
                class,
                alteration,
                actionable: false,
                copy_number: 0.0,
            });
        }
    }
    patient.drivers = findings[..n_actionable_before_passengers]
        .iter()
        .filter(|f| f.actionable)
        .map(|f| f.gene)
        .collect();
    let msi_high = chance(rng, alt::msi_high(tumour));
    let tmb = if msi_high {
        log_normal(rng, 35.0, 0.5)
    } else {
        log_normal(rng, alt::tmb_median(tumour), 0.75)
    };
    let brca = findings.iter().any(|f| f.gene.starts_with("BRCA"));
    let hrd_score = if brca {
        between(rng, 42, 90)
    } else {
        between(rng, 5, 60)
    };

    // tests: none ~8 %, one ~80 %, two ~12 %
    let n_tests = match unit(rng) {
        x if x < 0.08 => 0,
        x if x < 0.88 => 1,
        _ => 2,
    };
    for k in 1..=n_tests {
        const METHODS: &[(&str, u32)] = &[
            ("ngs-panel", 76),
            ("pcr", 7),
            ("ihc", 5),
            ("rna-seq", 4),
            ("fish", 3),
            ("wes", 2),
            ("array-cnv", 1),
            ("sanger", 1),
            ("nanostring", 1),
        ];
        let method = pick(rng, METHODS);
        let specimen = pick(
            rng,
            &[
                (Some("tissue-primary"), 55),
                (Some("tissue-metastasis"), 30),
                (Some("plasma-cfdna"), 12),
                (None, 3),
            ],
        );
        let approved = pick(rng, &[(Some(true), 85), (Some(false), 10), (None, 5)]);
        let report = if k == 1 {
            // the index date is the report date at referral; some reports predate it, a few follow
            match unit(rng) {
                x if x < 0.80 => patient.idx,
                x if x < 0.95 => patient.idx - between(rng, 1, 30),
                _ => patient.idx + between(rng, 1, 20),
            }
        } else if chance(rng, 0.7) {
            patient.idx - between(rng, 30, 720)
        } else {
            patient.idx + between(rng, 1, 60)
        };
        let test_id = format!("T{:08}-{k}", patient.id);
        let mt = &mut tables.molecular_test;
        mt.person_id.append_value(patient.id);
        mt.test_id.append_value(&test_id);
        mt.method.append_value(method);
        mt.specimen.append_option(specimen);
        mt.approved_lab.append_option(approved);
        mt.report_date.append_value(report);

        let plasma = specimen == Some("plasma-cfdna");
        let tiers = chance(rng, 0.6);
        let broad = method == "ngs-panel" || method == "wes";
        let v = &mut tables.variant;
        for f in &findings {
            let reported = match method {
                "ngs-panel" | "wes" => true,
                "rna-seq" | "nanostring" => f.class == Class::Fusion,
                "pcr" | "sanger" => {
                    matches!(f.class, Class::Snv | Class::Indel)
                        && matches!(
                            f.gene,
                            "KRAS" | "NRAS" | "BRAF" | "EGFR" | "IDH1" | "PIK3CA" | "FLT3"
                        )
                }
                "fish" => {
                    f.class == Class::Fusion
                        || (f.class == Class::Amplification && matches!(f.gene, "ERBB2" | "MET"))
                }
                "array-cnv" => matches!(f.class, Class::Amplification | Class::Deletion),
                _ => false, // ihc: handled below
            };
            // plasma misses some findings (low shedding)
            if !reported || (plasma && chance(rng, 0.3)) {
                continue;
            }
            let (alteration, value) = match f.class {
                Class::Snv | Class::Indel => {
                    let vaf = if plasma {
                        0.002 + 0.1 * unit(rng)
                    } else {
                        0.05 + 0.55 * unit(rng)
                    };
                    (Some(f.alteration), Some(round(vaf, 3)))
                }
                Class::Amplification => (None, Some(f.copy_number)),
                Class::Deletion => (None, Some(0.0)),
                Class::Fusion => (Some(f.alteration), None),
            };
            let tier = tiers.then_some(if f.actionable {
                "I"
            } else if f.gene == "TP53" {
                "III"
            } else {
                "II"
            });
            v.push(
                patient.id,
                &test_id,
                f.gene,
                f.class.name(),
                alteration,
                value,
                tier,
            );
        }
        if method == "ihc" {
            if let Some(f) = findings
                .iter()
                .find(|f| f.gene == "ERBB2" && f.class == Class::Amplification)
            {
                let score = if f.copy_number >= 6.0 { "3+" } else { "2+" };
                v.push(
                    patient.id,
                    &test_id,
                    "ERBB2",
                    "expression",
                    Some(score),
                    None,
                    None,
                );
            }
            if msi_high {
                v.push(
                    patient.id,
                    &test_id,
                    "MSI",
                    "signature",
                    Some("MSI-H"),
                    None,
                    None,
                );
            }
        }
        if broad {
            if chance(rng, if method == "wes" { 0.9 } else { 0.55 }) {
                let value = round(tmb, 1);
                let call = if value >= 10.0 { "high" } else { "low" };
                v.push(
                    patient.id,
                    &test_id,
                    "TMB",
                    "signature",
                    Some(call),
                    Some(value),
                    None,
                );
            }
            if chance(rng, 0.4) || (msi_high && chance(rng, 0.7)) {
                let call = if msi_high { "MSI-H" } else { "MSS" };
                v.push(
                    patient.id,
                    &test_id,
                    "MSI",
                    "signature",
                    Some(call),
                    None,
                    None,
                );
            }
            let hrd_tumour = matches!(
                tumour,
                Tumour::Ovary | Tumour::Breast | Tumour::Prostate | Tumour::Pancreas
            );
            if hrd_tumour && chance(rng, 0.2) {
                let call = if hrd_score >= 42 { "high" } else { "low" };
                v.push(
                    patient.id,
                    &test_id,
                    "HRD",
                    "signature",
                    Some(call),
                    Some(hrd_score as f64),
                    None,
                );
            }
        }
    }
}
