//! Labs (measurement) and clinical assessments (observation) of one patient: several lab rounds
//! around the index date in the units Norwegian and other labs send, reference ranges, realistic
//! missingness, and the edge cases that exercise thresholds, windows and data-quality rules.

use rand_chacha::ChaCha8Rng;

use super::epidemiology::Tumour;
use super::patient::{Edge, Patient};
use super::random::{between, chance, log_normal, normal, pick, round, unit};
use super::tables::Tables;

const HB: &str = "718-7";
const ANC: &str = "751-8";
const PLT: &str = "777-3";
const BILI: &str = "1975-2";
const AST: &str = "1920-8";
const ALT: &str = "1742-6";
const CREA: &str = "2160-0";
const CRCL: &str = "2164-2";
const EGFR: &str = "98979-8";
const LVEF: &str = "10230-1";
const QTC: &str = "8636-3";
const WEIGHT: &str = "29463-7";
const CA125: &str = "10334-1";
const PSA: &str = "2857-1";
const ECOG: &str = "89247-1";

/// Haemoglobin: 1 mmol/L (Fe) = 1.611 g/dL.
const HB_MMOL_PER_G_DL: f64 = 1.0 / 1.611;
/// Creatinine: 1 mg/dL = 88.42 umol/L; bilirubin: 1 mg/dL = 17.1 umol/L.
const CREA_UMOL_PER_MG_DL: f64 = 88.42;
const BILI_UMOL_PER_MG_DL: f64 = 17.1;

/// The patient's lab: which units it reports in (one lab per patient).
struct Units {
    hb: u8,     // 0 g/dL (most Norwegian labs), 1 g/L, 2 mmol/L
    counts: u8, // 0 10*9/L, 1 10*3/uL, 2 /uL
    bili_mg: bool,
    crea_mg: bool,
    bili_uln: Option<f64>,
}

pub fn generate(rng: &mut ChaCha8Rng, tables: &mut Tables, p: &Patient, stage: f64) {
    let units = Units {
        hb: pick(rng, &[(0u8, 70), (1, 25), (2, 5)]),
        counts: pick(rng, &[(0u8, 80), (1, 15), (2, 5)]),
        bili_mg: chance(rng, 0.10),
        crea_mg: chance(rng, 0.10),
        // ULN: 25 umol/L in most Norwegian labs, 21 in others, not sent by some
        bili_uln: pick(rng, &[(Some(25.0), 60), (Some(21.0), 25), (None, 15)]),
    };
    let f = p.female;
    // baselines (advanced-cancer population: mild anaemia common)
    let hb = (if f { 11.8 } else { 12.8 } + 1.6 * normal(rng)).clamp(6.0, 17.5);
    let anc = log_normal(rng, 4.2, 0.45);
    let plt = if chance(rng, 0.04) {
        log_normal(rng, 90.0, 0.4)
    } else {
        log_normal(rng, 260.0, 0.35)
    };
    let (bili, ast, alt) = if p.liver_mets {
        (
            log_normal(rng, 12.0, 0.7),
            log_normal(rng, 40.0, 0.6),
            log_normal(rng, 35.0, 0.6),
        )
    } else {
        (
            log_normal(rng, 8.0, 0.45),
            log_normal(rng, 24.0, 0.4),
            log_normal(rng, 22.0, 0.5),
        )
    };
    let crea = log_normal(rng, if f { 68.0 } else { 85.0 }, 0.25); // umol/L
    let weight = (if f { 68.0 } else { 82.0 } + 14.0 * normal(rng)).clamp(38.0, 160.0);

    let id = p.id;
    let idx = p.idx;
    let m = &mut tables.measurement;
    let exclusive_window = p.edge == Some(Edge::Window30And31Days);
    // lab rounds: none ~8 %, else 1-3; the latest 2-30 days before index for most
    let rounds = if exclusive_window {
        0
    } else {
        pick(rng, &[(0u8, 8), (1, 45), (2, 35), (3, 12)])
    };
    let mut offset = if chance(rng, 0.08) {
        between(rng, 31, 60)
    } else {
        between(rng, 2, 30)
    };
    for _ in 0..rounds {
        let day = idx - offset;
        let jitter = |rng: &mut ChaCha8Rng, x: f64| x * (1.0 + 0.06 * normal(rng));
        if chance(rng, 0.95) {
            let v = jitter(rng, hb);
            hemoglobin(m, id, day, v, f, units.hb);
            let v = jitter(rng, anc);
            count(m, id, ANC, day, v, (1.5, 7.3), units.counts, 1);
            let v = jitter(rng, plt);
            count(
                m,
                id,
                PLT,
                day,
                v,
                if f { (165.0, 387.0) } else { (145.0, 348.0) },
                units.counts,
                0,
            );
        }
        if chance(rng, 0.85) {
            let v = jitter(rng, bili);
            if units.bili_mg {
                let uln = units.bili_uln.map(|u| round(u / BILI_UMOL_PER_MG_DL, 1));
                m.push(
                    id,
                    BILI,
                    day,
                    round(v / BILI_UMOL_PER_MG_DL, 1).max(0.1),
                    "mg/dL",
                    uln.map(|_| 0.3),
                    uln,
                );
            } else {
                m.push(
                    id,
                    BILI,
                    day,
                    round(v, 0).max(2.0),
                    "umol/L",
                    units.bili_uln.map(|_| 5.0),
                    units.bili_uln,
                );
            }
            let ranges = !chance(rng, 0.1);
            let v = jitter(rng, ast);
            let uln = if f { 35.0 } else { 45.0 };
            m.push(
                id,
                AST,
                day,
                round(v, 0).max(5.0),
                "U/L",
                ranges.then_some(15.0),
                ranges.then_some(uln),
            );
            let v = jitter(rng, alt);
            let uln = if f { 45.0 } else { 70.0 };
            m.push(
                id,
                ALT,
                day,
                round(v, 0).max(5.0),
                "U/L",
                ranges.then_some(10.0),
                ranges.then_some(uln),
            );
        }
        if chance(rng, 0.85) {
            let v = jitter(rng, crea);
            let (lo, hi) = if f { (45.0, 90.0) } else { (60.0, 105.0) };
            if units.crea_mg {
                let k = CREA_UMOL_PER_MG_DL;
                m.push(
                    id,
                    CREA,
                    day,
                    round(v / k, 2),
                    "mg/dL",
                    Some(round(lo / k, 2)),
                    Some(round(hi / k, 2)),
                );
            } else {
                m.push(id, CREA, day, round(v, 0), "umol/L", Some(lo), Some(hi));
            }
            if chance(rng, 0.7) {
                // Norwegian labs report CKD-EPI eGFR with every creatinine
                let e = ckd_epi_2021(v / CREA_UMOL_PER_MG_DL, p.age, f);
                m.push(
                    id,
                    EGFR,
                    day,
                    round(e, 0),
                    "mL/min/{1.73_m2}",
                    Some(60.0),
                    None,
                );
            } else if chance(rng, 0.15) {
                // Cockcroft-Gault clearance
                let cg = (140 - p.age).max(10) as f64 * weight / (72.0 * v / CREA_UMOL_PER_MG_DL)
                    * if f { 0.85 } else { 1.0 };
                m.push(id, CRCL, day, round(cg, 0), "mL/min", None, None);
            }
        }
        if chance(rng, 0.3) {
            let v = weight + normal(rng);
            m.push(id, WEIGHT, day, round(v, 1), "kg", None, None);
        }
        if p.tumour == Tumour::Ovary && chance(rng, 0.8) {
            let v = log_normal(rng, 180.0, 1.3);
            m.push(id, CA125, day, round(v, 0), "U/mL", None, Some(35.0));
        }
        if p.tumour == Tumour::Prostate && chance(rng, 0.8) {
            let v = log_normal(rng, 25.0, 1.6);
            m.push(id, PSA, day, round(v, 1), "ng/mL", None, Some(4.0));
        }
        offset += between(rng, 7, 30);
    }
    if chance(rng, 0.04) {
        // a round after index (follow-up): must never be used
        let day = idx + between(rng, 1, 14);
        hemoglobin(m, id, day, hb * 0.9, f, units.hb);
    }
    if chance(rng, 0.15) {
        let v = (60.0 + 7.0 * normal(rng)).clamp(15.0, 80.0);
        m.push(
            id,
            LVEF,
            idx - between(rng, 0, 365),
            round(v, 0),
            "%",
            Some(50.0),
            None,
        );
    }
    if chance(rng, 0.25) {
        let v = 425.0 + 22.0 * normal(rng);
        m.push(
            id,
            QTC,
            idx - between(rng, 0, 60),
            round(v, 0),
            "ms",
            None,
            Some(if f { 460.0 } else { 450.0 }),
        );
    }
    edge_measurements(tables, p, units.hb);
    observations(rng, tables, p, stage);
}

fn hemoglobin(
    m: &mut super::tables::MeasurementRows,
    id: i64,
    day: i32,
    g_dl: f64,
    female: bool,
    unit: u8,
) {
    let (lo, hi) = if female { (11.7, 15.3) } else { (13.4, 17.0) };
    match unit {
        0 => m.push(id, HB, day, round(g_dl, 1), "g/dL", Some(lo), Some(hi)),
        1 => m.push(
            id,
            HB,
            day,
            round(g_dl * 10.0, 0),
            "g/L",
            Some(lo * 10.0),
            Some(hi * 10.0),
        ),
        _ => {
            let k = HB_MMOL_PER_G_DL;
            m.push(
                id,
                HB,
                day,
                round(g_dl * k, 1),
                "mmol/L",
                Some(round(lo * k, 1)),
                Some(round(hi * k, 1)),
            )
        }
    }
}

/// A cell count given in 10^9/L, written in the lab's unit.
#[allow(clippy::too_many_arguments)]
fn count(
    m: &mut super::tables::MeasurementRows,
    id: i64,
    loinc: &str,
    day: i32,
    per_nl: f64,
    range: (f64, f64),
    unit: u8,
    digits: i32,
) {
    match unit {
        0 => m.push(
            id,
            loinc,
            day,
            round(per_nl, digits),
            "10*9/L",
            Some(range.0),
            Some(range.1),
        ),
        1 => m.push(
            id,
            loinc,
            day,
            round(per_nl, digits),
            "10*3/uL",
            Some(range.0),
            Some(range.1),
        ),
        _ => m.push(
            id,
            loinc,
            day,
            round(per_nl * 1000.0, -1),
            "/uL",
            Some(range.0 * 1000.0),
            Some(range.1 * 1000.0),
        ),
    }
}

/// eGFR by CKD-EPI 2021 (race-free; Inker et al., NEJM 2021), creatinine in mg/dL.
pub fn ckd_epi_2021(scr_mg_dl: f64, age: i32, female: bool) -> f64 {
    let (kappa, alpha) = if female { (0.7, -0.241) } else { (0.9, -0.302) };
    let r = scr_mg_dl / kappa;
    142.0
        * r.min(1.0).powf(alpha)
        * r.max(1.0).powf(-1.2)
        * 0.9938f64.powi(age)
        * if female { 1.012 } else { 1.0 }
}

/// The edge case records: on thresholds, at 30/31 days, after index, same-date disagreement,
/// unconvertible units and out-of-domain values. Dated the day before index (later than any
/// regular round) unless the case is about the date.
fn edge_measurements(tables: &mut Tables, p: &Patient, hb_unit: u8) {
    let m = &mut tables.measurement;
    let (id, idx) = (p.id, p.idx);
    let day = idx - 1;
    match p.edge {
        Some(Edge::HbExactly9GramsPerDecilitre) => {
            m.push(id, HB, day, 9.0, "g/dL", Some(11.7), Some(15.3))
        }
        Some(Edge::HbExactly90GramsPerLitre) => {
            m.push(id, HB, day, 90.0, "g/L", Some(117.0), Some(153.0))
        }
        Some(Edge::AncExactly1_5) => m.push(id, ANC, day, 1.5, "10*9/L", Some(1.5), Some(7.3)),
        Some(Edge::PlateletsExactly75) => {
            m.push(id, PLT, day, 75.0, "10*9/L", Some(145.0), Some(348.0))
        }
        Some(Edge::LvefExactly40) => m.push(id, LVEF, day, 40.0, "%", Some(50.0), None),
        Some(Edge::ClearanceNear40) => {
            m.push(
                id,
                EGFR,
                day - 1,
                41.0,
                "mL/min/{1.73_m2}",
                Some(60.0),
                None,
            );
            m.push(id, CRCL, day, 40.0, "mL/min", None, None);
        }
        Some(Edge::Window30And31Days) => {
            // counts exactly 30 days before index (inside the window), liver tests 31 days
            // before (outside): the latter criteria become unknown
            hemoglobin(m, id, idx - 30, 10.4, p.female, hb_unit);
            m.push(id, ANC, idx - 30, 2.8, "10*9/L", Some(1.5), Some(7.3));
            m.push(id, PLT, idx - 30, 190.0, "10*9/L", Some(145.0), Some(348.0));
            m.push(id, BILI, idx - 31, 9.0, "umol/L", Some(5.0), Some(25.0));
            m.push(id, AST, idx - 31, 30.0, "U/L", Some(15.0), Some(35.0));
            m.push(id, ALT, idx - 31, 28.0, "U/L", Some(10.0), Some(45.0));
            m.push(id, CREA, idx - 31, 80.0, "umol/L", Some(45.0), Some(105.0));
        }
        Some(Edge::AfterIndex) => {
            m.push(id, HB, idx + 3, 7.5, "g/dL", Some(11.7), Some(15.3));
            m.push(id, PLT, idx + 3, 40.0, "10*9/L", Some(145.0), Some(348.0));
        }
        Some(Edge::SameDateDisagree) => {
            m.push(id, HB, day, 9.6, "g/dL", Some(11.7), Some(15.3));
            m.push(id, HB, day, 8.8, "g/dL", Some(11.7), Some(15.3));
        }
        Some(Edge::HbUnconvertibleUnit) => m.push(id, HB, day, 120.0, "mg/L", None, None),
        Some(Edge::PlateletsUnconvertibleUnit) => m.push(id, PLT, day, 12.0, "%", None, None),
        Some(Edge::NegativePlatelets) => {
            m.push(id, PLT, day, -5.0, "10*9/L", Some(145.0), Some(348.0))
        }
        Some(Edge::EcogExactly2) | Some(Edge::EcogOutOfDomain) | None => {}
    }
}

fn observations(rng: &mut ChaCha8Rng, tables: &mut Tables, p: &Patient, stage: f64) {
    let o = &mut tables.observation;
    let (id, idx) = (p.id, p.idx);
    let recent = |rng: &mut ChaCha8Rng| idx - between(rng, 2, 30);
    // ECOG: present within 30 days for ~85 %, older for ~7 %, none for ~8 %
    let x = unit(rng);
    if x < 0.92 {
        let day = if x < 0.85 {
            recent(rng)
        } else {
            idx - between(rng, 31, 120)
        };
        let ecog = pick(rng, &[(0.0, 30), (1.0, 42), (2.0, 18), (3.0, 8), (4.0, 2)]);
        o.num(id, ECOG, day, ecog);
    }
    match p.edge {
        Some(Edge::EcogExactly2) => o.num(id, ECOG, idx - 1, 2.0),
        Some(Edge::EcogOutOfDomain) => o.num(id, ECOG, idx - 1, 7.0),
        _ => {}
    }
    if chance(rng, 0.9) {
        let extent = if stage < 0.60 {
            "metastatic"
        } else if stage < 0.85 {
            "locally-advanced"
        } else {
            "local"
        };
        o.text(id, "extent", idx - between(rng, 0, 60), extent);
    }
    if chance(rng, 0.8) {
        let v = if chance(rng, 0.7) { "true" } else { "false" };
        o.text(id, "std-tx-exhausted", idx - between(rng, 0, 45), v);
    }
    if chance(rng, 0.75) {
        let v = if chance(rng, 0.85) { "true" } else { "false" };
        o.text(id, "recist-measurable", idx - between(rng, 0, 45), v);
    }
    if p.brain_mets {
        if chance(rng, 0.85) {
            let v = pick(rng, &[("stable", 55), ("progressive", 35), ("none", 10)]);
            o.text(id, "brain-mets-status", recent(rng), v);
        }
    } else if chance(rng, 0.2) {
        o.text(id, "brain-mets-status", recent(rng), "none");
    }
    if chance(rng, 0.5) {
        let g = pick(rng, &[(0.0, 40), (1.0, 30), (2.0, 20), (3.0, 8), (4.0, 2)]);
        o.num(id, "ctcae-max-grade", recent(rng), g);
    }
    if chance(rng, 0.4) {
        let g = pick(rng, &[(0.0, 55), (1.0, 25), (2.0, 13), (3.0, 6), (4.0, 1)]);
        o.num(id, "neuropathy-grade", recent(rng), g);
    }
    if chance(rng, 0.3) {
        let v = if chance(rng, 0.05) { "true" } else { "false" };
        o.text(id, "dysphagia", idx - between(rng, 0, 90), v);
    }
    if p.female && (18..=50).contains(&p.age) && chance(rng, 0.6) {
        let v = if chance(rng, 0.01) { "true" } else { "false" };
        o.text(id, "pregnant", recent(rng), v);
        let v = if chance(rng, 0.01) { "true" } else { "false" };
        o.text(id, "nursing", recent(rng), v);
    }
    if chance(rng, 0.05) {
        // penicillins and platinum most often; some targeted drugs of the trial
        let atc = pick(
            rng,
            &[
                ("J01CE02", 30),
                ("J01CA04", 20),
                ("L01XA02", 10),
                ("L01CD01", 10),
                ("L01EC02", 3),
                ("L01FD01", 3),
                ("L01FF02", 3),
                ("L01EB04", 2),
            ],
        );
        o.text(id, "allergy", idx - between(rng, 30, 3000), atc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ckd_epi_2021_matches_the_published_equation() {
        // Woman, 60 y, creatinine 0.7 mg/dL (= kappa): 142 * 0.9938^60 * 1.012 = 98.95
        let e = ckd_epi_2021(0.7, 60, true);
        assert!((e - 98.95).abs() < 0.05, "{e}");
        // Man, 70 y, creatinine 1.8 mg/dL (= 2 kappa): 142 * 2^-1.2 * 0.9938^70 = 39.99
        let e = ckd_epi_2021(1.8, 70, false);
        assert!((e - 39.99).abs() < 0.05, "{e}");
    }
}
