//! Query strings, label selectors and field selectors, as the API server reads them.

use std::collections::BTreeMap;

use serde_json::Value;

/// The query of a request target, percent-decoded (`+` is a space, as Go's `url.ParseQuery`).
pub fn query(target: &str) -> Vec<(String, String)> {
    let Some((_, query)) = target.split_once('?') else { return Vec::new() };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Parses `a=b,c!=d,e in (f,g),!h,i`; the error is the API server's message.
pub fn parse_labels(selector: &str) -> Result<Vec<LabelReq>, String> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    let mut reqs = Vec::new();
    for term in terms.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let bad = || format!("unable to parse requirement: found '{term}', expected: identifier");
        let set = |op: &str| -> Option<(String, Vec<String>)> {
            let (key, rest) = term.split_once(op)?;
            let rest = rest.trim();
            let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
            Some((key.trim().to_owned(), inner.split(',').map(|v| v.trim().to_owned()).collect()))
        };
        let req = if let Some(key) = term.strip_prefix('!') {
            LabelReq::NotExists(key.trim().to_owned())
        } else if let Some((k, vs)) = set(" notin ") {
            LabelReq::NotIn(k, vs)
        } else if let Some((k, vs)) = set(" in ") {
            LabelReq::In(k, vs)
        } else if let Some((k, v)) = term.split_once("!=") {
            LabelReq::NotEq(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned())
        } else {
            LabelReq::Exists(term.to_owned())
        };
        let key = match &req {
            LabelReq::Eq(k, _) | LabelReq::NotEq(k, _) | LabelReq::In(k, _) | LabelReq::NotIn(k, _) => k,
            LabelReq::Exists(k) | LabelReq::NotExists(k) => k,
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(bad());
        }
        reqs.push(req);
    }
    Ok(reqs)
}

pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default()
}

pub fn labels_match(reqs: &[LabelReq], object: &Value) -> bool {
    let labels = labels_of(object);
    reqs.iter().all(|req| match req {
        LabelReq::Eq(k, v) => labels.get(k) == Some(v),
        LabelReq::NotEq(k, v) => labels.get(k) != Some(v),
        LabelReq::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
        LabelReq::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
        LabelReq::Exists(k) => labels.contains_key(k),
        LabelReq::NotExists(k) => !labels.contains_key(k),
    })
}

/// One requirement of a field selector: the field's JSON path, the value, and whether it must differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReq {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

/// Parses `metadata.name=x,status.phase!=Running`, the fields `supported` names (else the API
/// server's error message).
pub fn parse_fields(selector: &str, supported: &[&str]) -> Result<Vec<FieldReq>, String> {
    let mut reqs = Vec::new();
    for term in selector.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (field, value, negated) = if let Some((f, v)) = term.split_once("!=") {
            (f, v, true)
        } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            (f, v, false)
        } else {
            return Err(format!("invalid selector: '{selector}'; can't understand '{term}'"));
        };
        let field = field.trim();
        if !supported.contains(&field) {
            return Err(format!("field label not supported: {field}"));
        }
        reqs.push(FieldReq { field: field.to_owned(), value: value.trim().to_owned(), negated });
    }
    Ok(reqs)
}

pub fn fields_match(reqs: &[FieldReq], object: &Value) -> bool {
    reqs.iter().all(|req| {
        let mut at = object;
        for part in req.field.split('.') {
            at = &at[part];
        }
        let actual = match at {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        (actual == req.value) != req.negated
    })
}
