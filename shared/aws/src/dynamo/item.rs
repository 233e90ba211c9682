//! Items as attribute maps: typed readers that turn a damaged item into a `Backend` error
//! (never a default that would change behaviour), writers, and DynamoDB's item-size rule,
//! which is what on-demand capacity is billed by.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use switchyard_core::StoreError;
use switchyard_core::clock::{epoch_millis, from_epoch_millis};
use time::OffsetDateTime;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn ms(t: OffsetDateTime) -> AttributeValue {
    n(epoch_millis(t))
}

/// Sets `name` when `value` is present; absence is how every optional field is stored.
pub(crate) fn put_opt(item: &mut Item, name: &str, value: Option<AttributeValue>) {
    if let Some(v) = value {
        item.insert(name.to_owned(), v);
    }
}

pub(crate) fn json_s<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(s)
        .map_err(|e| StoreError::Backend(format!("cannot encode JSON: {e}")))
}

/// Reads one item; errors name the item kind and attribute, never a value.
pub(crate) struct Reader<'a> {
    item: &'a Item,
    kind: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(item: &'a Item, kind: &'static str) -> Self {
        Self { item, kind }
    }

    fn bad(&self, name: &str) -> StoreError {
        StoreError::Backend(format!(
            "stored {} has a missing or malformed {name}",
            self.kind
        ))
    }

    pub(crate) fn opt_s(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(self.bad(name)),
        }
    }

    pub(crate) fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name)?.ok_or_else(|| self.bad(name))
    }

    pub(crate) fn string(&self, name: &str) -> Result<String, StoreError> {
        self.s(name).map(str::to_owned)
    }

    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.opt_s(name)?.map(str::to_owned))
    }

    pub(crate) fn parse<T: FromStr>(&self, name: &str) -> Result<T, StoreError> {
        self.s(name)?.parse().map_err(|_| self.bad(name))
    }

    pub(crate) fn opt_n<T: FromStr>(&self, name: &str) -> Result<Option<T>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| self.bad(name)),
            Some(_) => Err(self.bad(name)),
        }
    }

    pub(crate) fn num<T: FromStr>(&self, name: &str) -> Result<T, StoreError> {
        self.opt_n(name)?.ok_or_else(|| self.bad(name))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.item.get(name) {
            Some(AttributeValue::Bool(b)) => Ok(*b),
            _ => Err(self.bad(name)),
        }
    }

    pub(crate) fn flag(&self, name: &str) -> bool {
        matches!(self.item.get(name), Some(AttributeValue::Bool(true)))
    }

    pub(crate) fn time(&self, name: &str) -> Result<OffsetDateTime, StoreError> {
        self.num::<i64>(name).map(from_epoch_millis)
    }

    pub(crate) fn opt_time(&self, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        Ok(self.opt_n::<i64>(name)?.map(from_epoch_millis))
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        serde_json::from_str(self.s(name)?).map_err(|_| self.bad(name))
    }

    pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        self.opt_s(name)?
            .map(|v| serde_json::from_str(v).map_err(|_| self.bad(name)))
            .transpose()
    }

    pub(crate) fn list(&self, name: &str) -> Result<&'a [AttributeValue], StoreError> {
        match self.item.get(name) {
            None => Ok(&[]),
            Some(AttributeValue::L(l)) => Ok(l),
            Some(_) => Err(self.bad(name)),
        }
    }
}

/// An item's size as DynamoDB bills it: each attribute's name plus its value — strings and
/// binaries by length, numbers by about one byte per two significant digits plus one, booleans
/// and nulls one byte, lists and maps three bytes plus one per element plus their contents.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_documented_rule() {
        let item: Item = HashMap::from([
            ("pk".to_owned(), s("abc")),
            ("n".to_owned(), n(12345)),
            ("ok".to_owned(), AttributeValue::Bool(true)),
            ("l".to_owned(), AttributeValue::L(vec![s("x"), s("yz")])),
        ]);
        // 2+3, 1+4, 2+1, 1+(3 + 2 + 3)
        assert_eq!(item_size(&item), 5 + 5 + 3 + 9);
    }

    #[test]
    fn damaged_items_are_errors_that_name_the_attribute() {
        let item: Item = HashMap::from([("n".to_owned(), s("not a number"))]);
        let r = Reader::new(&item, "delivery");
        let err = r.num::<u32>("n").unwrap_err().to_string();
        assert!(err.contains("delivery") && err.contains(" n"), "{err}");
        assert!(r.opt_string("missing").unwrap().is_none());
    }
}
