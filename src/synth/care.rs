//! Treatments of one patient: prior lines of anticancer drugs ended before index, some ongoing at
//! index, radiotherapy, castration for prostate cancer, megestrol, antiepileptics for brain
//! tumours, and prior targeted drugs for patients whose tumour carries the matching driver.

use rand_chacha::ChaCha8Rng;

use super::epidemiology::{self as epi, Tumour};
use super::patient::Patient;
use super::random::{between, chance, pick};
use super::tables::Tables;

pub fn generate(rng: &mut ChaCha8Rng, tables: &mut Tables, p: &Patient) {
    let t = &mut tables.treatment;
    let (id, idx) = (p.id, p.idx);
    let lines = epi::prior_lines(p.tumour);
    let n_lines = (pick(rng, &[(0usize, 25), (1, 35), (2, 25), (3, 15)])).min(lines.len());
    // lines run back from index: the last ended 14-150 days before, each lasted 2-10 months
    let mut end = idx - between(rng, 14, 150);
    let ongoing = chance(rng, 0.08);
    for (i, line) in lines[..n_lines].iter().enumerate().rev() {
        let start = end - between(rng, 60, 300);
        let last = i + 1 == n_lines;
        let stop = if last && ongoing {
            // still on treatment at index (E10): no end, or an end after index
            if chance(rng, 0.5) {
                None
            } else {
                Some(idx + between(rng, 1, 60))
            }
        } else {
            Some(end)
        };
        for atc in line.iter() {
            t.push(id, Some(atc), start, stop);
        }
        end = start - between(rng, 7, 60);
    }
    // a prior targeted drug for the patient's driver (a resistance or E9 case)
    let targeted = match (p.tumour, p.drivers.first().copied()) {
        (Tumour::Lung, Some("EGFR")) => Some(("L01EB04", 0.4)),
        (Tumour::Lung, Some("ALK")) => Some(("L01ED01", 0.4)),
        (Tumour::Melanoma, Some("BRAF")) => Some(("L01EC02", 0.4)),
        (Tumour::Breast, Some("ERBB2")) => Some(("L01FD01", 0.5)),
        (Tumour::Ovary, Some("BRCA1" | "BRCA2")) => Some(("L01XK01", 0.4)),
        (Tumour::Colon | Tumour::Rectum, None) => Some(("L01FE01", 0.15)),
        _ => None,
    };
    if let Some((atc, share)) = targeted {
        if chance(rng, share) {
            let stop = idx - between(rng, 20, 200);
            t.push(id, Some(atc), stop - between(rng, 60, 400), Some(stop));
            if atc == "L01EC02" {
                t.push(id, Some("L01EE01"), stop - 200, Some(stop)); // with trametinib
            }
        }
    }
    if chance(rng, 0.3) {
        let start = idx - between(rng, 30, 700);
        let stop = if chance(rng, 0.07) {
            None
        } else {
            Some(start + between(rng, 1, 35))
        };
        t.push(id, None, start.min(idx - 1), stop);
    }
    if p.tumour == Tumour::Prostate && chance(rng, 0.85) {
        // castration (leuprorelin) continues through later lines
        t.push(
            id,
            Some("L02AE02"),
            p.primary_date + between(rng, 0, 60),
            None,
        );
    }
    if chance(rng, 0.01) {
        t.push(id, Some("L02AB01"), idx - between(rng, 5, 120), None); // megestrol for appetite
    }
    if p.tumour == Tumour::Brain {
        if chance(rng, 0.25) {
            // carbamazepine: enzyme-inducing; ongoing for most, stopped shortly before for some
            let stop = if chance(rng, 0.7) {
                None
            } else {
                Some(idx - between(rng, 1, 40))
            };
            t.push(id, Some("N03AF01"), idx - between(rng, 60, 400), stop);
        } else if chance(rng, 0.5) {
            t.push(id, Some("N03AX14"), idx - between(rng, 60, 400), None); // levetiracetam
        }
    }
}
