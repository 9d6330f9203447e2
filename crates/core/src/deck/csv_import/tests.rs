use super::*;
use crate::deck::{ColumnRef, Field};
use rust_decimal_macros::dec;

fn import(text: &str) -> Result<ImportReport, ImportError> {
    import_csv(text.as_bytes(), &ImportOptions::default())
}

fn errors_of(text: &str) -> Vec<RowError> {
    match import(text) {
        Err(ImportError::Invalid { errors, .. }) => errors,
        other => panic!("expected row errors, got {other:?}"),
    }
}

#[test]
fn reads_a_plain_deck() {
    let r =
        import("prefix,destination,rate,increment\n44,UK,0.0100,60/60\n447,UK Mobile,0.0200,1/1\n")
            .expect("valid deck");
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[1].prefix, "447");
    assert_eq!(r.rows[1].rate, dec!(0.02));
    assert_eq!(r.rows[1].increment, Increment::PER_SECOND);
    assert_eq!(r.rows[1].line, 3);
    assert_eq!(r.delimiter, ',');
}

#[test]
fn handles_bom_semicolons_decimal_commas_and_quotes() {
    let text =
        "\u{feff}Dial Code;Description;Price;Connection Fee\n33;\"France; Paris\";0,0150;0,01\n";
    let r = import(text).expect("valid deck");
    assert_eq!(r.delimiter, ';');
    assert_eq!(r.rows[0].destination, "France; Paris");
    assert_eq!(r.rows[0].rate, dec!(0.015));
    assert_eq!(r.rows[0].connection_fee, dec!(0.01));
}

#[test]
fn handles_tabs_two_increment_columns_and_extra_columns() {
    let text = "code\tname\trate\tinitial increment\tsubsequent increment\tsales rep\n1\tUSA\t0.005\t6\t6\tBob\n";
    let r = import(text).expect("valid deck");
    assert_eq!(r.delimiter, '\t');
    assert_eq!(
        r.rows[0].increment,
        Increment {
            initial: 6,
            subsequent: 6
        }
    );
}

#[test]
fn commas_inside_quoted_destination_names() {
    let r =
        import("prefix,destination,rate\n1242,\"Bahamas, The - Mobile\",0.21\n").expect("valid");
    assert_eq!(r.rows[0].destination, "Bahamas, The - Mobile");
}

#[test]
fn bad_cells_name_line_column_and_reason() {
    let text = "prefix,destination,rate,increment,currency\n\
                4a4,UK,0.01,60/60,USD\n\
                44,UK,-0.01,60/60,USD\n\
                45,DK,0.01,0/60,USD\n\
                46,SE,0.01,60/60,USS\n\
                47,NO,,60/60,USD\n";
    let errors = errors_of(text);
    let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6]);
    assert_eq!(errors[0].column.as_deref(), Some("1 (prefix) [prefix]"));
    assert!(errors[0].reason.contains("not made of digits"));
    assert_eq!(errors[1].column.as_deref(), Some("3 (rate) [rate]"));
    assert!(errors[1].reason.contains("negative"));
    assert!(errors[2].reason.contains("bad increment"));
    assert!(errors[3].reason.contains("unknown currency"));
    assert!(errors[4].reason.contains("rate is empty"));
    let shown = errors[1].to_string();
    assert!(
        shown.starts_with("line 3, column 3 (rate) [rate]:"),
        "{shown}"
    );
}

#[test]
fn import_is_all_or_nothing_unless_skipping() {
    let text = "prefix,rate\n44,0.01\n45,abc\n46,0.02\n";
    assert!(matches!(
        import(text),
        Err(ImportError::Invalid { total: 1, .. })
    ));
    let opts = ImportOptions {
        skip_invalid: true,
        ..ImportOptions::default()
    };
    let r = import_csv(text.as_bytes(), &opts).expect("skipping");
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.skipped_total, 1);
    assert_eq!(r.skipped[0].line, 3);
}

#[test]
fn conflicting_duplicate_prefix_is_an_error_exact_repeat_is_not() {
    let errors = errors_of("prefix,rate\n44,0.01\n44,0.02\n");
    assert_eq!(errors[0].line, 3);
    assert!(
        errors[0].reason.contains("already priced on line 2"),
        "{}",
        errors[0].reason
    );
    let r = import("prefix,rate\n44,0.01\n44,0.01\n").expect("exact repeat");
    assert_eq!((r.rows.len(), r.duplicate_rows), (1, 1));
}

#[test]
fn same_prefix_in_disjoint_windows_is_a_scheduled_change() {
    let text = "prefix,rate,effective from,effective to\n44,0.01,2026-01-01,2026-02-01\n44,0.02,2026-02-01,\n";
    let r = import(text).expect("disjoint windows");
    assert_eq!(r.rows.len(), 2);
    let errors = errors_of(
        "prefix,rate,effective from,effective to\n44,0.01,2026-01-01,2026-03-01\n44,0.02,2026-02-01,\n",
    );
    assert_eq!(errors[0].line, 3);
}

#[test]
fn status_column_marks_closed_rows_and_unknown_status_is_an_error() {
    let text = "prefix,destination,rate,status\n44,UK,0.01,Active\n4477,UK special,,Deleted\n";
    let r = import(text).expect("closed row without rate");
    assert_eq!(r.closed_rows, 1);
    assert!(r.rows[1].closed);
    let errors = errors_of("prefix,rate,status\n44,0.01,maybe\n");
    assert!(errors[0].reason.contains("unknown status"));
}

#[test]
fn missing_header_field_and_explicit_mapping() {
    assert!(matches!(
        import("foo,bar\n1,2\n"),
        Err(ImportError::Layout(_))
    ));
    let mut opts = ImportOptions::default();
    opts.mapping
        .0
        .insert(Field::Prefix, ColumnRef::Name("foo".into()));
    opts.mapping.0.insert(Field::Rate, ColumnRef::Position(2));
    let r = import_csv("foo,bar\n1,2\n".as_bytes(), &opts).expect("mapped");
    assert_eq!(r.rows[0].rate, dec!(2));
    let headerless = ImportOptions {
        has_header: false,
        ..opts.clone()
    };
    let mut headerless = headerless;
    headerless
        .mapping
        .0
        .insert(Field::Prefix, ColumnRef::Position(1));
    let r = import_csv("1,2\n44,3\n".as_bytes(), &headerless).expect("headerless");
    assert_eq!(r.rows.len(), 2);
}

#[test]
fn blank_lines_are_ignored_and_empty_file_is_refused() {
    let r = import("prefix,rate\n\n44,0.01\n\n").expect("blank lines");
    assert_eq!(r.rows.len(), 1);
    assert_eq!(import("prefix,rate\n").err(), Some(ImportError::Empty));
}

#[test]
fn invalid_utf8_is_reported_by_line() {
    let mut bytes = b"prefix,destination,rate\n44,UK,0.01\n33,Fran\xE7e,0.02\n".to_vec();
    bytes.extend_from_slice(b"49,DE,0.03\n");
    match import_csv(bytes.as_slice(), &ImportOptions::default()) {
        Err(ImportError::Invalid { errors, .. }) => {
            assert_eq!(errors[0].line, 3);
            assert!(errors[0].reason.contains("UTF-8"));
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn effective_to_before_from_is_an_error() {
    let errors =
        errors_of("prefix,rate,effective from,effective to\n44,0.01,2026-02-01,2026-01-01\n");
    assert!(errors[0].reason.contains("not after"));
}

#[test]
fn a_star_prefix_is_a_flat_price_and_an_empty_one_an_error() {
    let r = import("prefix,rate,attachment_fee\n*,0.80,0.05\n").expect("flat email deck");
    assert_eq!(r.rows[0].prefix, "");
    assert_eq!(
        (r.rows[0].rate, r.rows[0].attachment_fee),
        (dec!(0.80), dec!(0.05))
    );
    let errors = errors_of("prefix,rate\n,0.80\n");
    assert_eq!(errors[0].line, 2);
}
