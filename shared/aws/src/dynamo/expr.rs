//! Update and condition expressions. Every attribute in an expression is written `#name` and
//! mapped to itself, so none of DynamoDB's several hundred reserved words (`name`, `status`,
//! `ttl` …) can ever break a query; values are `:placeholders`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Clone, Debug, Default)]
pub(crate) struct Expr {
    pub(crate) text: String,
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// `text` with each `#attr` naming the attribute `attr`.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let mut names = HashMap::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'#' {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                if end > start {
                    let name = &text[start..end];
                    names.insert(format!("#{name}"), name.to_owned());
                }
                i = end;
            } else {
                i += 1;
            }
        }
        Self {
            text,
            names,
            values: HashMap::new(),
        }
    }

    pub(crate) fn value(mut self, placeholder: &str, v: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), v);
        self
    }

    /// Maps a placeholder to an attribute whose name is not a plain word (`r_<uuid>`).
    pub(crate) fn name(mut self, placeholder: &str, attribute: impl Into<String>) -> Self {
        self.names.insert(placeholder.to_owned(), attribute.into());
        self
    }

    /// Both expressions' names and values, for a request that takes two (update + condition).
    pub(crate) fn merged_with(
        &self,
        other: Option<&Expr>,
    ) -> (HashMap<String, String>, HashMap<String, AttributeValue>) {
        let mut names = self.names.clone();
        let mut values = self.values.clone();
        if let Some(o) = other {
            names.extend(o.names.clone());
            values.extend(o.values.clone());
        }
        (names, values)
    }
}

/// `None` for an empty map: DynamoDB refuses empty `ExpressionAttributeValues`.
pub(crate) fn non_empty<K, V>(m: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!m.is_empty()).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hash_word_becomes_a_name() {
        let e = Expr::new("SET #st = :st, #n = #n + :one REMOVE #next");
        assert_eq!(e.names.len(), 3);
        assert_eq!(e.names["#next"], "next");
    }
}
