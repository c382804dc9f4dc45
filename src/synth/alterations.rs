//! Published alteration prevalences per tumour type: exclusive NSCLC drivers, independent
//! drivers, passengers, NTRK fusions, MSI-H and TMB. Data only (sources in
//! `docs/synthetic-data.md`); `patient.rs` samples from it.

use super::epidemiology::Tumour;

/// Variant classes of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Snv,
    Indel,
    Amplification,
    Deletion,
    Fusion,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Snv => "snv",
            Class::Indel => "indel",
            Class::Amplification => "amplification",
            Class::Deletion => "deletion",
            Class::Fusion => "fusion",
        }
    }
}

/// An alteration found at `prevalence` in a tumour type: gene, class and the alterations seen,
/// weighted. `actionable` marks drivers with an approved targeted drug (for tiers and reports).
pub struct Driver {
    pub gene: &'static str,
    pub class: Class,
    pub alterations: &'static [(&'static str, u32)],
    pub prevalence: f64,
    pub actionable: bool,
}

/// A [`Driver`] literal (a macro, not a const fn, so that slices of them are promoted to statics).
macro_rules! d {
    ($gene:expr, $class:expr, $alterations:expr, $prevalence:expr, $actionable:expr) => {
        Driver {
            gene: $gene,
            class: $class,
            alterations: $alterations,
            prevalence: $prevalence,
            actionable: $actionable,
        }
    };
}

use Class::{Amplification as Amp, Deletion as Del, Fusion as Fus, Indel, Snv};

/// Non-small-cell lung cancer: oncogenic drivers are mutually exclusive, so they are drawn as one
/// categorical (AACR GENIE / Nordic NSCLC series: KRAS G12C ~11 %, other KRAS ~15 %, EGFR ~12 %,
/// ALK ~4 %, ROS1 ~1.5 %, RET ~1.5 %, BRAF V600E ~2 %, MET exon 14 ~3 %, ERBB2 ~2 %).
pub const NSCLC_EXCLUSIVE: &[Driver] = &[
    d!("KRAS", Snv, &[("G12C", 1)], 0.11, true),
    d!(
        "KRAS",
        Snv,
        &[
            ("G12V", 4),
            ("G12D", 3),
            ("G13C", 1),
            ("Q61H", 1),
            ("G12A", 2)
        ],
        0.15,
        false
    ),
    d!(
        "EGFR",
        Indel,
        &[("exon19del", 11), ("E746_A750del", 3)],
        0.06,
        true
    ),
    d!("EGFR", Snv, &[("L858R", 1)], 0.05, true),
    d!("EGFR", Indel, &[("exon20ins", 1)], 0.01, true),
    d!(
        "ALK",
        Fus,
        &[("EML4::ALK", 9), ("KIF5B::ALK", 1)],
        0.04,
        true
    ),
    d!(
        "ROS1",
        Fus,
        &[("CD74::ROS1", 3), ("EZR::ROS1", 1)],
        0.015,
        true
    ),
    d!(
        "RET",
        Fus,
        &[("KIF5B::RET", 3), ("CCDC6::RET", 1)],
        0.015,
        true
    ),
    d!("BRAF", Snv, &[("V600E", 1)], 0.02, true),
    d!("MET", Indel, &[("exon14skip", 1)], 0.03, true),
    d!(
        "ERBB2",
        Indel,
        &[("exon20ins", 2), ("Y772_A775dup", 1)],
        0.02,
        true
    ),
];

const KRAS_CRC: &[(&str, u32)] = &[
    ("G12D", 33),
    ("G12V", 22),
    ("G13D", 18),
    ("G12C", 8),
    ("G12A", 7),
    ("Q61H", 5),
    ("A146T", 7),
];
const PIK3CA_HOT: &[(&str, u32)] = &[("H1047R", 4), ("E545K", 3), ("E542K", 2), ("N345K", 1)];
const BRCA: &[(&str, u32)] = &[
    ("E1836fs", 1),
    ("Q1756fs", 1),
    ("S1982fs", 1),
    ("R1443*", 1),
];

/// Independent (not exclusive) alterations per tumour type, at published prevalence in
/// advanced disease (AACR GENIE v15, TCGA PanCancer, ESMO/OncoKB summaries; see docs).
pub fn drivers(tumour: Tumour) -> &'static [Driver] {
    use Tumour::*;
    match tumour {
        Colon | Rectum => &[
            // KRAS ~40 %, NRAS ~4 %, BRAF V600E ~8 % (exclusive in practice; see patient.rs)
            d!("KRAS", Snv, KRAS_CRC, 0.40, false),
            d!(
                "NRAS",
                Snv,
                &[("Q61K", 2), ("G12D", 1), ("Q61R", 1)],
                0.04,
                false
            ),
            d!("BRAF", Snv, &[("V600E", 1)], 0.08, true),
            d!("ERBB2", Amp, &[("amplification", 1)], 0.03, true),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.15, true),
        ],
        Melanoma => &[
            // BRAF V600 ~45 % (V600E 80 %, V600K 20 %), NRAS ~20 %; exclusive (patient.rs)
            d!("BRAF", Snv, &[("V600E", 4), ("V600K", 1)], 0.45, true),
            d!(
                "NRAS",
                Snv,
                &[("Q61R", 2), ("Q61K", 2), ("Q61L", 1)],
                0.20,
                false
            ),
            d!("KIT", Snv, &[("L576P", 1), ("K642E", 1)], 0.02, true),
            d!("CDK4", Amp, &[("amplification", 1)], 0.03, true),
        ],
        Breast => &[
            d!("ERBB2", Amp, &[("amplification", 1)], 0.15, true),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.35, true),
            d!("BRCA1", Indel, BRCA, 0.02, true),
            d!("BRCA2", Indel, BRCA, 0.03, true),
            d!(
                "ESR1",
                Snv,
                &[("Y537S", 2), ("D538G", 2), ("E380Q", 1)],
                0.10,
                true
            ),
            d!("AKT1", Snv, &[("E17K", 1)], 0.03, true),
            d!("CDK4", Amp, &[("amplification", 1)], 0.02, true),
            d!("FGFR1", Amp, &[("amplification", 1)], 0.08, false),
        ],
        Stomach | Oesophagus => &[
            d!("ERBB2", Amp, &[("amplification", 1)], 0.15, true),
            d!("FGFR2", Amp, &[("amplification", 1)], 0.05, false),
            d!("KRAS", Amp, &[("amplification", 1)], 0.05, false),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.07, true),
        ],
        Ovary => &[
            // BRCA1/2 ~20 % of high-grade serous (germline + somatic)
            d!("BRCA1", Indel, BRCA, 0.13, true),
            d!("BRCA2", Indel, BRCA, 0.07, true),
            d!("KRAS", Snv, &[("G12V", 1), ("G12D", 1)], 0.05, false),
            d!("BRAF", Snv, &[("V600E", 1)], 0.02, true),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.05, true),
        ],
        Prostate => &[
            // PROfound / TCGA mCRPC: BRCA2 ~10 %, ATM ~5 %, BRCA1 ~1 %, CDK12 ~5 %
            d!("BRCA2", Indel, BRCA, 0.10, true),
            d!("ATM", Indel, &[("R3008C", 1), ("E1978fs", 1)], 0.05, true),
            d!("BRCA1", Indel, BRCA, 0.01, true),
            d!("CDK12", Indel, &[("Q1240fs", 1)], 0.05, false),
            d!("PTEN", Del, &[("deletion", 1)], 0.20, false),
            d!("AR", Amp, &[("amplification", 1)], 0.15, false),
        ],
        Pancreas => &[
            d!(
                "KRAS",
                Snv,
                &[
                    ("G12D", 45),
                    ("G12V", 33),
                    ("G12R", 15),
                    ("Q61H", 5),
                    ("G12C", 2)
                ],
                0.90,
                false
            ),
            d!("BRCA2", Indel, BRCA, 0.04, true),
            d!("BRCA1", Indel, BRCA, 0.01, true),
        ],
        Uterus => &[
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.35, true),
            d!(
                "KRAS",
                Snv,
                &[("G12D", 1), ("G12V", 1), ("G13D", 1)],
                0.15,
                false
            ),
            d!("ERBB2", Amp, &[("amplification", 1)], 0.03, true),
            d!("POLE", Snv, &[("P286R", 1)], 0.06, false),
        ],
        Bladder => &[
            d!(
                "FGFR3",
                Snv,
                &[("S249C", 3), ("Y373C", 1), ("R248C", 1)],
                0.15,
                true
            ),
            d!("ERBB2", Snv, &[("S310F", 1)], 0.06, true),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.20, true),
        ],
        Thyroid => &[
            d!("BRAF", Snv, &[("V600E", 1)], 0.45, true),
            d!(
                "RET",
                Fus,
                &[("CCDC6::RET", 2), ("NCOA4::RET", 1)],
                0.05,
                true
            ),
            d!("NRAS", Snv, &[("Q61R", 1)], 0.10, false),
        ],
        Brain => &[
            d!("IDH1", Snv, &[("R132H", 1)], 0.10, true),
            d!("BRAF", Snv, &[("V600E", 1)], 0.02, true),
            d!("EGFR", Amp, &[("amplification", 1)], 0.40, false),
            d!("CDK4", Amp, &[("amplification", 1)], 0.10, true),
        ],
        HeadNeck => &[
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.15, true),
            d!("HRAS", Snv, &[("G12S", 1), ("Q61L", 1)], 0.05, true),
        ],
        Biliary | Liver => &[
            d!("IDH1", Snv, &[("R132C", 2), ("R132L", 1)], 0.13, true),
            d!(
                "FGFR2",
                Fus,
                &[("FGFR2::BICC1", 2), ("FGFR2::AHCYL1", 1)],
                0.08,
                true
            ),
            d!("ERBB2", Amp, &[("amplification", 1)], 0.05, true),
            d!("BRAF", Snv, &[("V600E", 1)], 0.03, true),
        ],
        Sarcoma => &[
            d!("CDK4", Amp, &[("amplification", 1)], 0.30, true),
            d!("KIT", Snv, &[("W557_K558del", 2), ("V560D", 1)], 0.25, true),
        ],
        Lymphoma | Hodgkin => &[
            d!("EZH2", Snv, &[("Y641N", 1), ("Y641F", 1)], 0.15, true),
            d!("MYD88", Snv, &[("L265P", 1)], 0.10, false),
        ],
        Leukaemia => &[
            d!("FLT3", Indel, &[("ITD", 1)], 0.10, true),
            d!("IDH2", Snv, &[("R140Q", 1)], 0.05, true),
            d!("BCR", Fus, &[("BCR::ABL1", 1)], 0.08, true),
        ],
        Myeloma => &[
            d!("KRAS", Snv, &[("G12D", 1), ("Q61H", 1)], 0.20, false),
            d!("BRAF", Snv, &[("V600E", 1)], 0.04, true),
        ],
        Kidney => &[d!("MET", Amp, &[("amplification", 1)], 0.02, true)],
        UnknownPrimary => &[
            d!("KRAS", Snv, &[("G12D", 1), ("G12V", 1)], 0.20, false),
            d!("BRAF", Snv, &[("V600E", 1)], 0.05, true),
            d!("ERBB2", Amp, &[("amplification", 1)], 0.04, true),
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.10, true),
        ],
        Cervix => &[
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.25, true),
            d!("ERBB2", Snv, &[("S310F", 1)], 0.04, true),
        ],
        Lung | Testis | SkinOther | Other => &[
            d!("PIK3CA", Snv, PIK3CA_HOT, 0.05, true),
            d!("BRAF", Snv, &[("V600E", 1)], 0.02, true),
        ],
    }
}

/// Non-actionable passengers (TP53 and tissue-typical genes) with prevalence per tumour type.
pub fn passengers(tumour: Tumour) -> &'static [(&'static str, Class, &'static str, f64)] {
    use Tumour::*;
    match tumour {
        Colon | Rectum => &[
            ("TP53", Snv, "R175H", 0.60),
            ("APC", Indel, "R1450*", 0.70),
            ("SMAD4", Snv, "R361H", 0.12),
        ],
        Lung => &[
            ("TP53", Snv, "R273H", 0.50),
            ("STK11", Indel, "Q37*", 0.15),
            ("KEAP1", Snv, "G333C", 0.12),
        ],
        Ovary => &[("TP53", Snv, "R248Q", 0.85)],
        Pancreas => &[
            ("TP53", Snv, "R273H", 0.70),
            ("CDKN2A", Del, "deletion", 0.30),
            ("SMAD4", Del, "deletion", 0.20),
        ],
        Melanoma => &[
            ("CDKN2A", Del, "deletion", 0.30),
            ("NF1", Indel, "R1276*", 0.12),
            ("TERT", Snv, "C228T", 0.60),
        ],
        Breast => &[
            ("TP53", Snv, "R175H", 0.35),
            ("GATA3", Indel, "D336fs", 0.10),
            ("CDH1", Indel, "Q23*", 0.12),
        ],
        Kidney => &[
            ("VHL", Indel, "L89fs", 0.55),
            ("PBRM1", Indel, "Q1298*", 0.35),
        ],
        Brain => &[
            ("TERT", Snv, "C228T", 0.70),
            ("CDKN2A", Del, "deletion", 0.50),
            ("PTEN", Indel, "R130*", 0.30),
        ],
        Uterus => &[
            ("PTEN", Indel, "R130fs", 0.55),
            ("ARID1A", Indel, "Q372*", 0.35),
        ],
        Prostate => &[("TP53", Snv, "R248W", 0.35), ("SPOP", Snv, "F133V", 0.08)],
        _ => &[
            ("TP53", Snv, "R248W", 0.35),
            ("ARID1A", Indel, "Q372*", 0.08),
        ],
    }
}

/// NTRK fusions: rare across solid tumours (~0.3 %; Westphalen et al. 2021, 0.28 % of 295,676).
pub const NTRK_FUSION: &[(&str, &str, u32)] = &[
    ("NTRK1", "TPM3::NTRK1", 2),
    ("NTRK3", "ETV6::NTRK3", 3),
    ("NTRK2", "QKI::NTRK2", 1),
];
pub const NTRK_PREVALENCE: f64 = 0.003;

/// MSI-H prevalence in advanced disease (Le et al. 2017; Bonneville et al. 2017): endometrial
/// ~25 %, colorectal ~5 % (stage IV), gastric ~8 %, others ~1 %.
pub fn msi_high(tumour: Tumour) -> f64 {
    use Tumour::*;
    match tumour {
        Uterus => 0.25,
        Colon | Rectum => 0.05,
        Stomach => 0.08,
        Prostate | Ovary | Biliary | UnknownPrimary => 0.02,
        _ => 0.01,
    }
}

/// Median TMB (mut/Mb) of MSS tumours, for a log-normal with sigma 0.75 (Chalmers et al. 2017:
/// melanoma and lung highest, ~10-15 % of all profiled tumours have TMB >= 10).
pub fn tmb_median(tumour: Tumour) -> f64 {
    use Tumour::*;
    match tumour {
        Melanoma => 9.0,
        SkinOther => 8.0,
        Lung => 6.0,
        Bladder => 6.5,
        HeadNeck => 4.5,
        Colon | Rectum | Stomach | Oesophagus | Uterus | Cervix => 3.5,
        Leukaemia | Lymphoma | Hodgkin | Myeloma | Testis | Thyroid => 1.2,
        _ => 2.5,
    }
}
