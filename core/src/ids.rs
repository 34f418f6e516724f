//! Identities: newtypes so a task id is never passed where a worker id belongs.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        // Natural order, so that `w2` sorts before `w10`: ties between equally good
        // workers break by this order, and text order would favour w1 and w10..w19.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> core::cmp::Ordering {
                natural_cmp(&self.0, &other.0)
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl $name {
            /// Wraps an identifier.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }
    };
}

/// Compares runs of ASCII digits by their value and everything else as text
/// (`w2 < w10 < w10a`); equal values written differently (`w01`, `w1`) then order
/// as text, so the order stays total and agrees with equality.
pub fn natural_cmp(a: &str, b: &str) -> core::cmp::Ordering {
    use core::cmp::Ordering;
    let (mut left, mut right) = (a.as_bytes(), b.as_bytes());
    loop {
        match (left.first(), right.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (x_digits, x_rest) = split_digits(left);
                let (y_digits, y_rest) = split_digits(right);
                let (x_value, y_value) = (strip_zeros(x_digits), strip_zeros(y_digits));
                let order = x_value.len().cmp(&y_value.len()).then_with(|| x_value.cmp(y_value));
                if order != Ordering::Equal {
                    return order;
                }
                (left, right) = (x_rest, y_rest);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (left, right) = (&left[1..], &right[1..]);
            }
        }
    }
}

fn split_digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text.iter().position(|c| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

fn strip_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().position(|&c| c != b'0').unwrap_or(digits.len());
    &digits[start..]
}

string_id!(
    /// Identifies one task across submission, retries and results. Clients choose it, so
    /// a client that resubmits after a supervisor crash can use the same id (submission is
    /// idempotent per id).
    TaskId
);

string_id!(
    /// Identifies one worker agent. Ties between equally good workers break by this id.
    WorkerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_sort_by_number_not_text() {
        // Regression (issue 7, item 9): text order put w10..w17 before w2, so a
        // 20-worker pool sent its work to w1 and w10-w17 only.
        let mut ids: Vec<WorkerId> = ["w10", "w2", "w1", "w20", "w3", "w11"].into_iter().map(WorkerId::from).collect();
        ids.sort();
        let names: Vec<&str> = ids.iter().map(WorkerId::as_str).collect();
        assert_eq!(names, ["w1", "w2", "w3", "w10", "w11", "w20"]);
    }

    #[test]
    fn natural_order_is_total_and_agrees_with_equality() {
        use core::cmp::Ordering;
        let texts = ["", "a", "a1", "a01", "a1b", "a2", "a10", "b", "10", "9", "x99999999999999999999999"];
        for a in texts {
            for b in texts {
                let order = natural_cmp(a, b);
                assert_eq!(order == Ordering::Equal, a == b, "{a:?} {b:?}");
                assert_eq!(order, natural_cmp(b, a).reverse(), "{a:?} {b:?}");
                for c in texts {
                    if order == Ordering::Less && natural_cmp(b, c) == Ordering::Less {
                        assert_eq!(natural_cmp(a, c), Ordering::Less, "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }
}
