//! Column builders for one chunk of patients: the generator appends rows here, then turns each
//! table into one Arrow record batch with the contract's schema. Holds a chunk, never a table.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder,
};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use super::schema::{schema, Table};

/// The rows of one chunk, column by column, for all seven tables.
#[derive(Default)]
pub struct Tables {
    pub person: PersonRows,
    pub diagnosis: DiagnosisRows,
    pub measurement: MeasurementRows,
    pub observation: ObservationRows,
    pub treatment: TreatmentRows,
    pub molecular_test: MolecularTestRows,
    pub variant: VariantRows,
}

#[derive(Default)]
pub struct PersonRows {
    pub person_id: Int64Builder,
    pub sex: StringBuilder,
    pub birth_year: Int32Builder,
    pub death_date: Date32Builder,
    pub region: StringBuilder,
    pub site: StringBuilder,
    pub index_date: Date32Builder,
}

#[derive(Default)]
pub struct DiagnosisRows {
    pub person_id: Int64Builder,
    pub icd10: StringBuilder,
    pub date: Date32Builder,
    pub morphology: StringBuilder,
    pub oncotree: StringBuilder,
}

#[derive(Default)]
pub struct MeasurementRows {
    pub person_id: Int64Builder,
    pub loinc: StringBuilder,
    pub date: Date32Builder,
    pub value: Float64Builder,
    pub unit: StringBuilder,
    pub range_low: Float64Builder,
    pub range_high: Float64Builder,
}

#[derive(Default)]
pub struct ObservationRows {
    pub person_id: Int64Builder,
    pub code: StringBuilder,
    pub date: Date32Builder,
    pub value_num: Float64Builder,
    pub value_text: StringBuilder,
}

#[derive(Default)]
pub struct TreatmentRows {
    pub person_id: Int64Builder,
    pub atc: StringBuilder,
    pub kind: StringBuilder,
    pub start_date: Date32Builder,
    pub end_date: Date32Builder,
}

#[derive(Default)]
pub struct MolecularTestRows {
    pub person_id: Int64Builder,
    pub test_id: StringBuilder,
    pub method: StringBuilder,
    pub specimen: StringBuilder,
    pub approved_lab: BooleanBuilder,
    pub report_date: Date32Builder,
}

#[derive(Default)]
pub struct VariantRows {
    pub person_id: Int64Builder,
    pub test_id: StringBuilder,
    pub gene: StringBuilder,
    pub class: StringBuilder,
    pub alteration: StringBuilder,
    pub value: Float64Builder,
    pub tier: StringBuilder,
}

impl DiagnosisRows {
    pub fn push(
        &mut self,
        person_id: i64,
        icd10: &str,
        date: i32,
        morphology: Option<&str>,
        oncotree: Option<&str>,
    ) {
        self.person_id.append_value(person_id);
        self.icd10.append_value(icd10);
        self.date.append_value(date);
        self.morphology.append_option(morphology);
        self.oncotree.append_option(oncotree);
    }
}

impl MeasurementRows {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        person_id: i64,
        loinc: &str,
        date: i32,
        value: f64,
        unit: &str,
        range_low: Option<f64>,
        range_high: Option<f64>,
    ) {
        self.person_id.append_value(person_id);
        self.loinc.append_value(loinc);
        self.date.append_value(date);
        self.value.append_value(value);
        self.unit.append_value(unit);
        self.range_low.append_option(range_low);
        self.range_high.append_option(range_high);
    }
}

impl ObservationRows {
    pub fn num(&mut self, person_id: i64, code: &str, date: i32, value: f64) {
        self.person_id.append_value(person_id);
        self.code.append_value(code);
        self.date.append_value(date);
        self.value_num.append_value(value);
        self.value_text.append_null();
    }

    pub fn text(&mut self, person_id: i64, code: &str, date: i32, value: &str) {
        self.person_id.append_value(person_id);
        self.code.append_value(code);
        self.date.append_value(date);
        self.value_num.append_null();
        self.value_text.append_value(value);
    }
}

impl TreatmentRows {
    pub fn push(&mut self, person_id: i64, atc: Option<&str>, start: i32, end: Option<i32>) {
        self.person_id.append_value(person_id);
        self.atc.append_option(atc);
        self.kind.append_value(if atc.is_some() {
            "drug"
        } else {
            "radiotherapy"
        });
        self.start_date.append_value(start);
        self.end_date.append_option(end);
    }
}

impl VariantRows {
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        person_id: i64,
        test_id: &str,
        gene: &str,
        class: &str,
        alteration: Option<&str>,
        value: Option<f64>,
        tier: Option<&str>,
    ) {
        self.person_id.append_value(person_id);
        self.test_id.append_value(test_id);
        self.gene.append_value(gene);
        self.class.append_value(class);
        self.alteration.append_option(alteration);
        self.value.append_option(value);
        self.tier.append_option(tier);
    }
}

impl Tables {
    /// One record batch per table, in [`Table::ALL`] order.
    pub fn finish(mut self) -> Result<Vec<RecordBatch>, ArrowError> {
        let p = &mut self.person;
        let person: Vec<ArrayRef> = vec![
            Arc::new(p.person_id.finish()),
            Arc::new(p.sex.finish()),
            Arc::new(p.birth_year.finish()),
            Arc::new(p.death_date.finish()),
            Arc::new(p.region.finish()),
            Arc::new(p.site.finish()),
            Arc::new(p.index_date.finish()),
        ];
        let d = &mut self.diagnosis;
        let diagnosis: Vec<ArrayRef> = vec![
            Arc::new(d.person_id.finish()),
            Arc::new(d.icd10.finish()),
            Arc::new(d.date.finish()),
            Arc::new(d.morphology.finish()),
            Arc::new(d.oncotree.finish()),
        ];
        let m = &mut self.measurement;
        let measurement: Vec<ArrayRef> = vec![
            Arc::new(m.person_id.finish()),
            Arc::new(m.loinc.finish()),
            Arc::new(m.date.finish()),
            Arc::new(m.value.finish()),
            Arc::new(m.unit.finish()),
            Arc::new(m.range_low.finish()),
            Arc::new(m.range_high.finish()),
        ];
        let o = &mut self.observation;
        let observation: Vec<ArrayRef> = vec![
            Arc::new(o.person_id.finish()),
            Arc::new(o.code.finish()),
            Arc::new(o.date.finish()),
            Arc::new(o.value_num.finish()),
            Arc::new(o.value_text.finish()),
        ];
        let t = &mut self.treatment;
        let treatment: Vec<ArrayRef> = vec![
            Arc::new(t.person_id.finish()),
            Arc::new(t.atc.finish()),
            Arc::new(t.kind.finish()),
            Arc::new(t.start_date.finish()),
            Arc::new(t.end_date.finish()),
        ];
        let mt = &mut self.molecular_test;
        let molecular_test: Vec<ArrayRef> = vec![
            Arc::new(mt.person_id.finish()),
            Arc::new(mt.test_id.finish()),
            Arc::new(mt.method.finish()),
            Arc::new(mt.specimen.finish()),
            Arc::new(mt.approved_lab.finish()),
            Arc::new(mt.report_date.finish()),
        ];
        let v = &mut self.variant;
        let variant: Vec<ArrayRef> = vec![
            Arc::new(v.person_id.finish()),
            Arc::new(v.test_id.finish()),
            Arc::new(v.gene.finish()),
            Arc::new(v.class.finish()),
            Arc::new(v.alteration.finish()),
            Arc::new(v.value.finish()),
            Arc::new(v.tier.finish()),
        ];
        let columns = [
            person,
            diagnosis,
            measurement,
            observation,
            treatment,
            molecular_test,
            variant,
        ];
        Table::ALL
            .iter()
            .zip(columns)
            .map(|(table, cols)| RecordBatch::try_new(schema(*table), cols))
            .collect()
    }
}
