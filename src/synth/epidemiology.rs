//! The published figures the generator draws from: tumour sites in the proportions of Cancer in
//! Norway 2023, health regions and hospitals, and prior treatment lines per tumour. Data only
//! (sources in `docs/synthetic-data.md`); alterations are in `alterations.rs`.

/// A tumour group the generator knows; decides codes, sex, drivers, labs and treatments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tumour {
    Prostate,
    Breast,
    Colon,
    Rectum,
    Lung,
    Melanoma,
    SkinOther,
    Bladder,
    Pancreas,
    Kidney,
    Lymphoma,
    Hodgkin,
    Leukaemia,
    Myeloma,
    Ovary,
    Uterus,
    Cervix,
    Stomach,
    Oesophagus,
    Brain,
    Thyroid,
    HeadNeck,
    Liver,
    Biliary,
    Testis,
    Sarcoma,
    UnknownPrimary,
    Other,
}

/// A tumour site: its weight (new cases in Norway 2023), ICD-10 codes (dotted form), share of
/// men, mean age at diagnosis and histologies (ICD-O-3 morphology, OncoTree code, weight).
pub struct Site {
    pub tumour: Tumour,
    pub cases: u32,
    pub icd10: &'static [&'static str],
    pub male_share: f64,
    pub mean_age: f64,
    pub histology: &'static [(&'static str, &'static str, u32)],
}

/// Cancer in Norway 2023: 38,094 new cases (Kreftregisteret key figures). Prostate 5,258,
/// breast 4,076, colon 3,388 and lung 3,319 are the registry's published 2023 counts; the
/// other sites are rounded from the registry's 2022-2023 site pages (see docs), and "other
/// sites" takes the remainder so that the weights sum to 38,094.
pub const SITES: &[Site] = &[
    Site {
        tumour: Tumour::Prostate,
        cases: 5258,
        icd10: &["C61"],
        male_share: 1.0,
        mean_age: 72.0,
        histology: &[("8140/3", "PRAD", 1)],
    },
    Site {
        tumour: Tumour::Breast,
        cases: 4076,
        icd10: &["C50.9", "C50.4", "C50.2", "C50.8"],
        male_share: 0.0,
        mean_age: 62.0,
        histology: &[("8500/3", "IDC", 8), ("8520/3", "ILC", 2)],
    },
    Site {
        tumour: Tumour::Colon,
        cases: 3388,
        icd10: &["C18.0", "C18.2", "C18.4", "C18.7", "C18.9"],
        male_share: 0.49,
        mean_age: 72.0,
        histology: &[("8140/3", "COAD", 9), ("8480/3", "MACR", 1)],
    },
    Site {
        tumour: Tumour::Lung,
        cases: 3319,
        icd10: &["C34.1", "C34.3", "C34.9", "C34.2"],
        male_share: 0.49,
        mean_age: 71.0,
        histology: &[
            ("8140/3", "LUAD", 60),
            ("8070/3", "LUSC", 25),
            ("8041/3", "SCLC", 13),
            ("8012/3", "LCLC", 2),
        ],
    },
    Site {
        tumour: Tumour::Melanoma,
        cases: 2700,
        icd10: &["C43.5", "C43.6", "C43.7", "C43.9", "C43.3"],
        male_share: 0.53,
        mean_age: 65.0,
        histology: &[("8720/3", "SKCM", 1)],
    },
    Site {
        tumour: Tumour::SkinOther,
        cases: 2700,
        icd10: &["C44.3", "C44.4", "C44.9"],
        male_share: 0.58,
        mean_age: 78.0,
        histology: &[("8070/3", "CSCC", 1)],
    },
    Site {
        tumour: Tumour::Rectum,
        cases: 1400,
        icd10: &["C20"],
        male_share: 0.58,
        mean_age: 68.0,
        histology: &[("8140/3", "READ", 1)],
    },
    Site {
        tumour: Tumour::Bladder,
        cases: 1700,
        icd10: &["C67.9", "C67.2"],
        male_share: 0.75,
        mean_age: 74.0,
        histology: &[("8120/3", "BLCA", 1)],
    },
    Site {
        tumour: Tumour::Pancreas,
        cases: 1000,
        icd10: &["C25.0", "C25.1", "C25.9"],
        male_share: 0.52,
        mean_age: 72.0,
        histology: &[("8500/3", "PAAD", 1)],
    },
    Site {
        tumour: Tumour::Kidney,
        cases: 1000,
        icd10: &["C64"],
        male_share: 0.66,
        mean_age: 66.0,
        histology: &[("8310/3", "CCRCC", 8), ("8260/3", "PRCC", 2)],
    },
    Site {
        tumour: Tumour::Lymphoma,
        cases: 1100,
        icd10: &["C83.3", "C82.9", "C85.9", "C83.0"],
        male_share: 0.57,
        mean_age: 67.0,
        histology: &[
            ("9680/3", "DLBCLNOS", 5),
            ("9690/3", "FL", 3),
            ("9591/3", "NHL", 2),
        ],
    },
    Site {
        tumour: Tumour::Hodgkin,
        cases: 150,
        icd10: &["C81.1", "C81.9"],
        male_share: 0.55,
        mean_age: 40.0,
        histology: &[("9663/3", "CHL", 1)],
    },
    Site {
        tumour: Tumour::Leukaemia,
        cases: 1300,
        icd10: &["C91.1", "C92.0", "C92.1", "C91.0"],
        male_share: 0.6,
        mean_age: 66.0,
        histology: &[
            ("9823/3", "CLLSLL", 4),
            ("9861/3", "AML", 3),
            ("9875/3", "CML", 1),
            ("9811/3", "BLL", 1),
        ],
    },
    Site {
        tumour: Tumour::Myeloma,
        cases: 550,
        icd10: &["C90.0"],
        male_share: 0.58,
        mean_age: 70.0,
        histology: &[("9732/3", "PCM", 1)],
    },
    Site {
        tumour: Tumour::Ovary,
        cases: 450,
        icd10: &["C56"],
        male_share: 0.0,
        mean_age: 64.0,
        histology: &[
            ("8461/3", "HGSOC", 7),
            ("8460/3", "LGSOC", 1),
            ("8380/3", "OEC", 1),
            ("8310/3", "CCOV", 1),
        ],
    },
    Site {
        tumour: Tumour::Uterus,
        cases: 850,
        icd10: &["C54.1", "C54.9"],
        male_share: 0.0,
        mean_age: 66.0,
        histology: &[("8380/3", "UEC", 8), ("8441/3", "USC", 2)],
    },
    Site {
        tumour: Tumour::Cervix,
        cases: 300,
        icd10: &["C53.9"],
        male_share: 0.0,
        mean_age: 48.0,
        histology: &[("8070/3", "CESC", 1)],
    },
    Site {
        tumour: Tumour::Stomach,
        cases: 450,
        icd10: &["C16.0", "C16.9", "C16.3"],
        male_share: 0.62,
        mean_age: 71.0,
        histology: &[("8140/3", "STAD", 1)],
    },
    Site {
        tumour: Tumour::Oesophagus,
        cases: 400,
        icd10: &["C15.5", "C15.9"],
        male_share: 0.72,
        mean_age: 70.0,
        histology: &[("8140/3", "ESCA", 6), ("8070/3", "ESCC", 4)],
    },
    Site {
        tumour: Tumour::Brain,
        cases: 450,
        icd10: &["C71.1", "C71.9", "C71.2"],
        male_share: 0.58,
        mean_age: 60.0,
        histology: &[("9440/3", "GBM", 8), ("9401/3", "ASTR", 2)],
    },
    Site {
        tumour: Tumour::Thyroid,
        cases: 400,
        icd10: &["C73"],
        male_share: 0.3,
        mean_age: 52.0,
        histology: &[
            ("8260/3", "THPA", 8),
            ("8345/3", "THME", 1),
            ("8020/3", "THAP", 1),
        ],
    },
    Site {
        tumour: Tumour::HeadNeck,
        cases: 900,
        icd10: &["C01", "C02.9", "C10.9", "C32.9", "C06.9"],
        male_share: 0.68,
        mean_age: 64.0,
        histology: &[("8070/3", "HNSC", 1)],
    },
    Site {
        tumour: Tumour::Liver,
        cases: 400,
        icd10: &["C22.0", "C22.1"],
        male_share: 0.7,
        mean_age: 69.0,
        histology: &[("8170/3", "HCC", 7), ("8160/3", "IHCH", 3)],
    },
    Site {
        tumour: Tumour::Biliary,
        cases: 250,
        icd10: &["C23", "C24.0", "C24.9"],
        male_share: 0.5,
        mean_age: 71.0,
        histology: &[("8160/3", "CHOL", 1)],
    },
    Site {
        tumour: Tumour::Testis,
        cases: 300,
        icd10: &["C62.9"],
        male_share: 1.0,
        mean_age: 35.0,
        histology: &[("9061/3", "SEM", 6), ("9065/3", "NSGCT", 4)],
    },
    Site {
        tumour: Tumour::Sarcoma,
        cases: 250,
        icd10: &["C49.2", "C49.4", "C48.0"],
        male_share: 0.55,
        mean_age: 58.0,
        histology: &[
            ("8850/3", "LIPO", 4),
            ("8890/3", "LMS", 3),
            ("8936/3", "GIST", 3),
        ],
    },
    Site {
        tumour: Tumour::UnknownPrimary,
        cases: 400,
        icd10: &["C80.9", "C80.0"],
        male_share: 0.5,
        mean_age: 71.0,
        histology: &[("8140/3", "CUP", 1)],
    },
    // Remainder of the 38,094: small sites (small intestine, anus, mesothelioma, vulva, penis,
    // other CNS, adrenal, ill-defined).
    Site {
        tumour: Tumour::Other,
        cases: 2653,
        icd10: &[
            "C17.9", "C21.0", "C45.0", "C51.9", "C60.9", "C72.0", "C74.0", "C76.0",
        ],
        male_share: 0.5,
        mean_age: 67.0,
        histology: &[("8000/3", "OTHER", 1)],
    },
];

/// Total of [`SITES`]: Cancer in Norway 2023's 38,094 new cases.
pub const TOTAL_CASES: u32 = 38_094;

/// Norway's four health regions with their share of the population (SSB, 1 Jan 2024: Sør-Øst
/// 3.16 M, Vest 1.13 M, Midt-Norge 0.75 M, Nord 0.49 M of 5.55 M), in per mille, and the
/// hospitals that refer patients, with weights.
/// A health region: name, population share in per mille, hospitals with weights.
pub type Region = (&'static str, u32, &'static [(&'static str, u32)]);

pub const REGIONS: &[Region] = &[
    (
        "Sør-Øst",
        560,
        &[
            ("Oslo universitetssykehus", 40),
            ("Akershus universitetssykehus", 15),
            ("Sykehuset Østfold", 10),
            ("Vestre Viken", 10),
            ("Sykehuset i Vestfold", 8),
            ("Sykehuset Innlandet", 9),
            ("Sykehuset Telemark", 5),
            ("Sørlandet sykehus", 7),
        ],
    ),
    (
        "Vest",
        200,
        &[
            ("Haukeland universitetssjukehus", 45),
            ("Stavanger universitetssjukehus", 35),
            ("Helse Fonna", 10),
            ("Helse Førde", 10),
        ],
    ),
    (
        "Midt-Norge",
        140,
        &[
            ("St. Olavs hospital", 55),
            ("Ålesund sjukehus", 25),
            ("Sykehuset Namsos", 10),
            ("Kristiansund sykehus", 10),
        ],
    ),
    (
        "Nord",
        90,
        &[
            ("UNN Tromsø", 50),
            ("Nordlandssykehuset Bodø", 30),
            ("Finnmarkssykehuset", 10),
            ("Helgelandssykehuset", 10),
        ],
    ),
];

/// Prior lines of anticancer drugs per tumour (ATC), in the usual order of lines.
pub fn prior_lines(tumour: Tumour) -> &'static [&'static [&'static str]] {
    use Tumour::*;
    match tumour {
        Lung => &[
            &["L01XA02", "L01BA04", "L01FF02"],
            &["L01CD02"],
            &["L01CD01", "L01FF01"],
        ],
        Colon | Rectum => &[
            &["L01BC06", "L01XA03"],
            &["L01BC02", "L01CE02", "L01FG01"],
            &["L01EX12"],
        ],
        Breast => &[
            &["L02BG04", "L01EF01"],
            &["L01CD01"],
            &["L01BC06"],
            &["L01FD01", "L01CD02"],
        ],
        Prostate => &[&["L02BB04"], &["L01CD02"], &["L02BX03"]],
        Melanoma => &[&["L01FF02"], &["L01FF01", "L01FX04"], &["L01XA04"]],
        Ovary => &[&["L01XA02", "L01CD01"], &["L01XK01"], &["L01DB01"]],
        Pancreas => &[&["L01BC02", "L01CE02", "L01XA03"], &["L01BC05", "L01CD05"]],
        Uterus | Cervix => &[&["L01XA02", "L01CD01"], &["L01FF02", "L01EX08"]],
        Stomach | Oesophagus => &[&["L01BC06", "L01XA03", "L01FF01"], &["L01CD01", "L01FG02"]],
        Bladder => &[&["L01XA01", "L01BC05"], &["L01FF04"]],
        Brain => &[&["L01AX03"], &["L01AD02"]],
        Kidney => &[&["L01EX01", "L01FF02"], &["L01EK01"]],
        Lymphoma | Hodgkin => &[&["L01FA01", "L01AA01", "L01DB01", "L01CA02"], &["L01XX47"]],
        Leukaemia => &[&["L01BC01", "L01DB06"], &["L01EA01"]],
        Myeloma => &[&["L04AX04", "L01XG01"], &["L01FC01"]],
        _ => &[&["L01XA02", "L01BC05"], &["L01CD01"]],
    }
}
