//! Message templates in minijinja (Jinja2 syntax): checked when saved, rendered strictly, so
//! a variable the caller did not supply is an error that names it, never an empty gap in a
//! message that has already gone out.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;
use std::collections::BTreeSet;

/// Why a template cannot be saved or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The source does not parse.
    #[error("template syntax error{}: {message}", line.map(|l| format!(" on line {l}")).unwrap_or_default())]
    Syntax {
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// Variables the template uses that were not supplied (dotted paths, sorted).
    #[error("missing template variable{}: {}", if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    Missing(Vec<String>),
    /// Rendering failed otherwise (a filter given the wrong type, say).
    #[error("template error: {0}")]
    Render(String),
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

fn syntax(e: &minijinja::Error) -> TemplateError {
    TemplateError::Syntax {
        line: e.line(),
        message: e.detail().unwrap_or("invalid template").to_string(),
    }
}

/// Checks a template and returns the variables it reads (dotted paths such as
/// `contact.first_name`), sorted.
pub fn check(source: &str) -> Result<Vec<String>, TemplateError> {
    let env = environment();
    let tmpl = env.template_from_str(source).map_err(|e| syntax(&e))?;
    let mut vars: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    vars.sort();
    Ok(vars)
}

/// Whether `path` (`a.b.c`) resolves in `vars`.
fn has_path(vars: &Value, path: &str) -> bool {
    path.split('.')
        .try_fold(vars, |v, key| v.get(key))
        .is_some_and(|v| !v.is_null())
}

/// Renders with `vars` (a JSON object). Every variable the template reads must be given:
/// the error lists all that are missing.
pub fn render(source: &str, vars: &Value) -> Result<String, TemplateError> {
    let env = environment();
    let tmpl = env.template_from_str(source).map_err(|e| syntax(&e))?;
    let missing: BTreeSet<String> = tmpl
        .undeclared_variables(true)
        .into_iter()
        .filter(|path| !has_path(vars, path))
        .collect();
    if !missing.is_empty() {
        return Err(TemplateError::Missing(missing.into_iter().collect()));
    }
    tmpl.render(minijinja::value::Serde(vars))
        .map_err(|e| match e.kind() {
            minijinja::ErrorKind::UndefinedError => {
                TemplateError::Missing(vec![e.detail().unwrap_or("a variable").to_string()])
            }
            _ => TemplateError::Render(e.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_and_names_what_is_missing() {
        let src = "Hi {{ contact.first_name }}, your code is {{ code }}. {% if promo %}{{ promo | upper }}{% endif %}";
        assert_eq!(
            check(src),
            Ok(vec![
                "code".into(),
                "contact.first_name".into(),
                "promo".into()
            ])
        );
        let out = render(
            src,
            &json!({"contact": {"first_name": "Ada"}, "code": 1234, "promo": "spring"}),
        );
        assert_eq!(out.as_deref(), Ok("Hi Ada, your code is 1234. SPRING"));
        assert_eq!(
            render(src, &json!({"contact": {}, "promo": false})),
            Err(TemplateError::Missing(vec![
                "code".into(),
                "contact.first_name".into()
            ]))
        );
        assert_eq!(
            render(src, &json!({"contact": {"first_name": "Ada"}, "code": 1}))
                .map_err(|e| e.to_string()),
            Err("missing template variable: promo".into())
        );
    }

    #[test]
    fn loops_bind_their_own_names() {
        let src = "{% for item in items %}{{ item.name }};{% endfor %}";
        assert_eq!(check(src), Ok(vec!["items".into()]));
        assert_eq!(
            render(src, &json!({"items": [{"name": "a"}, {"name": "b"}]})).as_deref(),
            Ok("a;b;")
        );
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let err = check("line one\n{{ unclosed").expect_err("syntax");
        assert!(
            matches!(err, TemplateError::Syntax { line: Some(2), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
