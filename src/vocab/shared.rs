//! [`Shared`]: an immutable string shared by reference count, for the words a report
//! repeats in every finding (check id, resource type, account, region, domain).
//!
//! 100,000 findings of one account name the same dozen account ids, regions and check ids:
//! as `String`s each finding held five small heap copies of them (32 bytes or more each with
//! the allocator's overhead, plus 24 bytes of `String`); shared, each is an 8-byte pointer to
//! one copy (see [`Interner`]). It reads as a `str` (`Deref`, comparisons with `&str` and
//! `String`) and serialises as a plain string.
//!
//! The pointer is thin (`Arc<Box<str>>`, not the fat 16-byte `Arc<str>`): a finding and a
//! result each carry eight of them, so the benchmark's 104,000 findings and results hold
//! 13 MB less, for one more small allocation per distinct text.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Shared(Arc<Box<str>>);

impl Shared {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Shared {
    fn from(s: &str) -> Self {
        Self(Arc::new(Box::from(s)))
    }
}

impl From<String> for Shared {
    fn from(s: String) -> Self {
        Self(Arc::new(s.into_boxed_str()))
    }
}

impl From<&String> for Shared {
    fn from(s: &String) -> Self {
        Self(Arc::new(Box::from(s.as_str())))
    }
}

impl From<Shared> for String {
    fn from(s: Shared) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Shared> for str {
    fn eq(&self, other: &Shared) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Shared> for &str {
    fn eq(&self, other: &Shared) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Shared> for String {
    fn eq(&self, other: &Shared) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Display for Shared {
    /// As `str` displays: width, fill and alignment apply (`{:<34}` in tables).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Shared {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// Hands out one [`Shared`] per distinct text.
#[derive(Default)]
pub struct Interner(HashSet<Shared>);

impl Interner {
    pub fn get(&mut self, text: &str) -> Shared {
        if let Some(shared) = self.0.get(text) {
            return shared.clone();
        }
        let shared = Shared::from(text);
        self.0.insert(shared.clone());
        shared
    }

    /// `shared`, or the equal text handed out before it.
    pub fn share(&mut self, shared: Shared) -> Shared {
        if let Some(known) = self.0.get(shared.as_str()) {
            return known.clone();
        }
        self.0.insert(shared.clone());
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_compares_and_serialises_as_its_text_and_interns_one_copy() {
        let mut interner = Interner::default();
        let a = interner.get("us-east-1");
        let b = interner.get(&String::from("us-east-1"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let owned = String::from("us-east-1");
        assert_eq!(a, "us-east-1");
        assert_eq!("us-east-1", a);
        assert_eq!(a, owned);
        assert_eq!(owned, a);
        assert_ne!(a, interner.get("eu-west-1"));
        let c = interner.share(Shared::from("us-east-1"));
        assert!(Arc::ptr_eq(&a.0, &c.0));
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"us-east-1\"");
        let back: Shared = serde_json::from_str("\"us-east-1\"").unwrap();
        assert_eq!(back, a);
        assert_eq!(format!("{a} {a:?}"), "us-east-1 \"us-east-1\"");
        // Padded like a str: the table renderers and the golden listing rely on it.
        assert_eq!(
            format!("[{a:<11}][{a:>11}][{a:.2}]"),
            "[us-east-1  ][  us-east-1][us]"
        );
    }
}
