//! Octopus Server versions, as the root document's `Version` reports them.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An Octopus Server version: `2020.1.0`, `2021.3.12345`, `2025.4.3897`, `0.0.0-local`,
/// `2022.2.3037-hotfix.3601`.
///
/// Ordering follows the numbers; a pre-release suffix sorts before the same numbers
/// without one, as in semantic versioning. Local development builds (`0.0.0-local`) sort
/// first but are treated as "newest" by [`OctopusVersion::is_local_build`] callers that
/// need to know.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OctopusVersion {
    /// The year-like major number (`2025`).
    pub major: u32,
    /// The minor number, the release within the year (`4`).
    pub minor: u32,
    /// The build or patch number (`3897`).
    pub patch: u32,
    /// Anything after the first `-` (`local`, `hotfix.3601`), without the dash.
    pub pre: Option<String>,
}

/// A version string that is not `MAJOR.MINOR[.PATCH][-SUFFIX]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid Octopus version {input:?}: {reason}")]
pub struct ParseVersionError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl OctopusVersion {
    /// A version from its numbers.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    /// `(major, minor)`, the part that decides which fields a server knows.
    pub fn major_minor(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Whether this is a local development build (`0.0.0-local`), whose features are
    /// those of the newest release.
    pub fn is_local_build(&self) -> bool {
        self.major == 0 && self.minor == 0 && self.patch == 0
    }

    /// How many minor releases lie between two versions, ignoring the patch.
    ///
    /// Octopus ships about four minor releases a year, so the distance across a year
    /// boundary counts the minors of the years in between as [`MINORS_PER_YEAR`]:
    /// `2024.4` to `2025.1` is 1, `2024.1` to `2025.1` is 4.
    pub fn minor_distance(&self, other: &OctopusVersion) -> u32 {
        let a = i64::from(self.major) * i64::from(MINORS_PER_YEAR) + i64::from(self.minor);
        let b = i64::from(other.major) * i64::from(MINORS_PER_YEAR) + i64::from(other.minor);
        // The difference of two u32-derived values fits in u32 after abs for any sane input;
        // saturate rather than panic on absurd ones.
        u32::try_from((a - b).abs()).unwrap_or(u32::MAX)
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.is_local_build() || (self.major, self.minor) >= (major, minor)
    }
}

/// Minor releases in one year of Octopus versions (`YYYY.1` to `YYYY.4`).
pub const MINORS_PER_YEAR: u32 = 4;

impl FromStr for OctopusVersion {
    type Err = ParseVersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseVersionError {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let (numbers, pre) = match text.split_once(['-', '+']) {
            Some((_, "")) => return Err(err("the suffix after '-' is empty")),
            Some((n, p)) => (n, Some(p.to_owned())),
            None => (text, None),
        };
        let mut parts = numbers.split('.');
        let mut next = |name| -> Result<Option<u32>, ParseVersionError> {
            match parts.next() {
                None => Ok(None),
                Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => Err(err(name)),
                Some(p) => p
                    .parse()
                    .map(Some)
                    .map_err(|_| err("a number is too large")),
            }
        };
        let major = next("the major part is not a number")?.ok_or_else(|| err("it is empty"))?;
        let minor =
            next("the minor part is not a number")?.ok_or_else(|| err("it has no minor part"))?;
        let patch = next("the patch part is not a number")?.unwrap_or(0);
        // A fourth number (2018.9.0.123 style builds) is accepted and ignored.
        let _revision = next("the revision part is not a number")?;
        if parts.next().is_some() {
            return Err(err("it has more than four numbers"));
        }
        Ok(Self {
            major,
            minor,
            patch,
            pre,
        })
    }
}

impl fmt::Display for OctopusVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

impl Ord for OctopusVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl PartialOrd for OctopusVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for OctopusVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for OctopusVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> OctopusVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_real_versions() {
        assert_eq!(v("2020.1.0"), OctopusVersion::new(2020, 1, 0));
        assert_eq!(v("2021.3.12345"), OctopusVersion::new(2021, 3, 12345));
        assert_eq!(v("2025.4.3897"), OctopusVersion::new(2025, 4, 3897));
        let local = v("0.0.0-local");
        assert!(local.is_local_build());
        assert_eq!(local.pre.as_deref(), Some("local"));
        assert_eq!(v("2022.2.3037-hotfix.3601").patch, 3037);
        assert_eq!(v("2018.9"), OctopusVersion::new(2018, 9, 0));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "2020.1.0",
            "2021.3.12345",
            "0.0.0-local",
            "2022.2.3037-hotfix.3601",
        ] {
            assert_eq!(v(s).to_string(), s);
            assert_eq!(v(&v(s).to_string()), v(s));
        }
    }

    #[test]
    fn garbage_is_an_error_that_quotes_the_input() {
        for bad in [
            "",
            "2020",
            "abc",
            "2020.x.1",
            "2020.1.2.3.4",
            "2020..1",
            "2020.1-",
        ] {
            let e = bad.parse::<OctopusVersion>().unwrap_err();
            assert_eq!(e.input, bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn ordering_and_distance() {
        assert!(v("2020.1.0") < v("2020.1.1"));
        assert!(v("2021.3.1") > v("2020.6.9"));
        assert!(v("2022.2.3037-hotfix.1") < v("2022.2.3037"));
        assert_eq!(v("2024.4.1").major_minor(), (2024, 4));
        assert_eq!(v("2024.4.1").minor_distance(&v("2025.1.2")), 1);
        assert_eq!(v("2024.1.1").minor_distance(&v("2025.1.2")), 4);
        assert_eq!(v("2025.2.0").minor_distance(&v("2025.2.99")), 0);
        assert!(v("0.0.0-local").at_least(2026, 3));
        assert!(!v("2020.1.0").at_least(2020, 3));
    }
}
