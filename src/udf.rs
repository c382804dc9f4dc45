//! eligo's own column functions inside polars expressions ([`MapColumn`]).

use polars::prelude::*;

/// A function of one column inside an expression, as `Expr::map` builds it, but evaluated by
/// polars' streaming engine on the thread that runs the query.
///
/// polars marks every `map` as possibly re-entrant (its function might run a query of its own),
/// and its streaming engine hands each morsel's call of such a function to a blocking thread
/// pool and waits for it (tokio's `spawn_blocking`): a switch of threads per morsel and
/// function, a quarter of a 1 M run's context switches. None of eligo's functions runs a query,
/// so each is built as `map_multiple` of one column, which polars does not mark.
pub(crate) trait MapColumn {
    /// `function` of this expression's column; `output_type` its field from the input's.
    fn map_column<F, DT>(self, function: F, output_type: DT) -> Expr
    where
        F: Fn(Column) -> PolarsResult<Column> + Send + Sync + 'static,
        DT: Fn(&Schema, &Field) -> PolarsResult<Field> + Send + Sync + 'static;
}

impl MapColumn for Expr {
    fn map_column<F, DT>(self, function: F, output_type: DT) -> Expr
    where
        F: Fn(Column) -> PolarsResult<Column> + Send + Sync + 'static,
        DT: Fn(&Schema, &Field) -> PolarsResult<Field> + Send + Sync + 'static,
    {
        map_multiple(
            move |columns: &mut [Column]| {
                let column = columns.first_mut().map(std::mem::take);
                function(column.ok_or_else(|| polars_err!(ComputeError: "no column to map"))?)
            },
            [self],
            move |schema: &Schema, fields: &[Field]| {
                let field = fields.first();
                output_type(
                    schema,
                    field.ok_or_else(|| polars_err!(ComputeError: "no field"))?,
                )
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column function gives what `Expr::map` gives, on a query of several morsels run by the
    /// streaming engine and on the in-memory engine, its output field named as its input's:
    /// each value doubled, by hand.
    #[test]
    fn maps_a_column_as_map_does() {
        let frame = df!("x" => (0..100_000i64).collect::<Vec<_>>()).unwrap();
        let doubled = |c: Column| Ok((c.as_materialized_series() * 2).into_column());
        let same = |_: &Schema, field: &Field| Ok(field.clone());
        for engine in [Engine::Streaming, Engine::InMemory] {
            let mapped = (frame.clone().lazy())
                .select([col("x").map_column(doubled, same).alias("y")])
                .collect_with_engine(engine)
                .unwrap()
                .unwrap_single();
            let by_map = (frame.clone().lazy())
                .select([col("x").map(doubled, same).alias("y")])
                .collect_with_engine(engine)
                .unwrap()
                .unwrap_single();
            assert_eq!(mapped, by_map);
            let y = mapped.column("y").unwrap().i64().unwrap();
            assert_eq!((y.get(0), y.get(99_999)), (Some(0), Some(199_998)));
        }
    }

    /// The flag the streaming engine reads to hand a function to another thread
    /// (`OPTIONAL_RE_ENTRANT`, by name: polars does not export its flags' type): `map` sets it,
    /// `map_column` does not.
    #[test]
    fn not_marked_re_entrant() {
        let same = |_: &Schema, field: &Field| Ok(field.clone());
        let re_entrant = |expr: Expr| match expr {
            Expr::AnonymousFunction { options, .. } => {
                format!("{:?}", options.flags).contains("OPTIONAL_RE_ENTRANT")
            }
            other => panic!("not a function: {other:?}"),
        };
        assert!(re_entrant(col("x").map(Ok, same)));
        assert!(!re_entrant(col("x").map_column(Ok, same)));
    }
}
