//! Mutations: a seeded random source, byte-level edits (AFL's havoc, in small),
//! dictionary tokens, splices between corpus entries, and edits of the JSON
//! values found inside an input (the shapes every parser here reads).

use serde_json::{Map, Value};

/// A small, seedable random source (SplitMix64): a run replays from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A source starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Largest input a mutation produces: parsers' size caps are tested elsewhere,
/// and small inputs run faster.
const MAX_LEN: usize = 64 * 1024;

/// Bytes that end or start tokens in the formats fuzzed here.
const SPECIAL_BYTES: &[u8] = b"\0\n\r\t \"'\\{}[]:,=&%+/-.0123456789@?#\x7f\x80\xff";

/// Values that break numbers: boundaries, overflows, odd forms.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "255",
    "256",
    "65535",
    "65536",
    "2147483648",
    "4294967296",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e999",
    "-1e999",
    "0.1",
    "1.5",
    "NaN",
];

/// Strings that break text handling: empty, escapes, invalid surrogates,
/// multi-byte characters at a cut, long text.
const STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\n",
    "\\",
    "\"",
    "é",
    "😀",
    "\u{202e}",
    "%",
    "%zz",
    "%00",
    "../",
    "http://",
    "https://[::1]:99999/",
    "//",
    "@",
    "00000000-0000-0000-0000-000000000000",
    "4c9e200e643a4915baca406ddf0b5349",
];

/// Makes new inputs from old ones.
#[derive(Debug, Clone)]
pub struct Mutator {
    dictionary: &'static [&'static str],
}

impl Mutator {
    /// A mutator that also inserts `dictionary`'s tokens.
    pub fn new(dictionary: &'static [&'static str]) -> Self {
        Mutator { dictionary }
    }

    /// One to eight stacked mutations of `parent`; `corpus` is spliced from.
    pub fn mutate(&self, parent: &[u8], corpus: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
        let mut out = parent.to_vec();
        let n = 1 + rng.below(8);
        for _ in 0..n {
            match rng.below(12) {
                0..=3 => self.mutate_json(&mut out, rng),
                4 => flip_bit(&mut out, rng),
                5 => set_special(&mut out, rng),
                6 => delete_range(&mut out, rng),
                7 => duplicate_range(&mut out, rng),
                8 => self.insert_token(&mut out, rng),
                9 => replace_number(&mut out, rng),
                10 => splice(&mut out, corpus, rng),
                _ => truncate(&mut out, rng),
            }
        }
        out.truncate(MAX_LEN);
        out
    }

    fn token<'a>(&'a self, rng: &mut Rng) -> &'a str {
        let n_dict = self.dictionary.len();
        let idx = rng.below(n_dict + STRINGS.len() + NUMBERS.len());
        if idx < n_dict {
            self.dictionary[idx]
        } else if idx < n_dict + STRINGS.len() {
            STRINGS[idx - n_dict]
        } else {
            NUMBERS[idx - n_dict - STRINGS.len()]
        }
    }

    fn insert_token(&self, out: &mut Vec<u8>, rng: &mut Rng) {
        let at = rng.below(out.len() + 1);
        let token = self.token(rng).as_bytes().to_vec();
        out.splice(at..at, token);
    }

    /// Replaces one JSON value inside `out` (an envelope's header line, a
    /// capture body, a stored state) with an edited copy, keeping the rest.
    fn mutate_json(&self, out: &mut Vec<u8>, rng: &mut Rng) {
        let starts: Vec<usize> = (0..out.len())
            .filter(|&i| matches!(out[i], b'{' | b'['))
            .collect();
        if starts.is_empty() {
            return self.insert_token(out, rng);
        }
        let start = starts[rng.below(starts.len())];
        let mut stream = serde_json::Deserializer::from_slice(&out[start..]).into_iter::<Value>();
        let Some(Ok(mut value)) = stream.next() else {
            return self.insert_token(out, rng);
        };
        let end = start + stream.byte_offset();
        self.edit_value(&mut value, rng, 0);
        let text = serde_json::to_vec(&value).unwrap_or_default();
        out.splice(start..end, text);
    }

    /// Edits one node of `value`, reached by a random walk.
    fn edit_value(&self, value: &mut Value, rng: &mut Rng, depth: usize) {
        let descend = depth < 12 && !rng.one_in(3);
        match value {
            Value::Object(map) if descend && !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(rng.below(map.len()))
                    .cloned()
                    .unwrap_or_default();
                if let Some(child) = map.get_mut(&key) {
                    return self.edit_value(child, rng, depth + 1);
                }
            }
            Value::Array(items) if descend && !items.is_empty() => {
                let idx = rng.below(items.len());
                return self.edit_value(&mut items[idx], rng, depth + 1);
            }
            _ => {}
        }
        match rng.below(9) {
            0 => *value = self.scalar(rng),
            1 => *value = Value::String(self.token(rng).to_owned()),
            2 => *value = Value::String("A".repeat(1 << rng.below(17))),
            3 => *value = nested(rng.below(200)),
            4 => match value {
                Value::Object(map) if !map.is_empty() => {
                    let key = map
                        .keys()
                        .nth(rng.below(map.len()))
                        .cloned()
                        .unwrap_or_default();
                    map.remove(&key);
                }
                Value::Array(items) if !items.is_empty() => {
                    items.remove(rng.below(items.len()));
                }
                _ => *value = Value::Null,
            },
            5 => match value {
                Value::Object(map) => {
                    map.insert(self.token(rng).to_owned(), self.scalar(rng));
                }
                Value::Array(items) if !items.is_empty() => {
                    let copy = items[rng.below(items.len())].clone();
                    let n = 1 + rng.below(64);
                    items.extend(std::iter::repeat_n(copy, n));
                }
                _ => *value = Value::Array(vec![value.clone()]),
            },
            6 => *value = Value::Object(Map::new()),
            7 => {
                // A number in place of a string and a string in place of anything else.
                *value = if value.is_string() {
                    self.scalar(rng)
                } else {
                    Value::String(value.to_string())
                }
            }
            _ => {
                if let Value::String(text) = value {
                    let cut = rng.below(text.len() + 1);
                    let cut = (0..=cut)
                        .rev()
                        .find(|&i| text.is_char_boundary(i))
                        .unwrap_or(0);
                    text.insert_str(cut, self.token(rng));
                } else {
                    *value = Value::Bool(rng.one_in(2));
                }
            }
        }
    }

    fn scalar(&self, rng: &mut Rng) -> Value {
        match rng.below(4) {
            0 => Value::Null,
            1 => Value::Bool(rng.one_in(2)),
            2 => serde_json::from_str(NUMBERS[rng.below(NUMBERS.len())]).unwrap_or(Value::Null),
            _ => Value::from(rng.next_u64() as i64),
        }
    }
}

/// `depth` arrays nested in each other.
fn nested(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |inner, _| Value::Array(vec![inner]))
}

fn flip_bit(out: &mut [u8], rng: &mut Rng) {
    if !out.is_empty() {
        let idx = rng.below(out.len());
        out[idx] ^= 1 << rng.below(8);
    }
}

fn set_special(out: &mut [u8], rng: &mut Rng) {
    if !out.is_empty() {
        let idx = rng.below(out.len());
        out[idx] = SPECIAL_BYTES[rng.below(SPECIAL_BYTES.len())];
    }
}

/// A random range: short ones mostly.
fn range(len: usize, rng: &mut Rng) -> std::ops::Range<usize> {
    let start = rng.below(len + 1);
    let max = (len - start).min(if rng.one_in(4) { len } else { 16 });
    start..start + rng.below(max + 1)
}

fn delete_range(out: &mut Vec<u8>, rng: &mut Rng) {
    let r = range(out.len(), rng);
    out.drain(r);
}

fn duplicate_range(out: &mut Vec<u8>, rng: &mut Rng) {
    let r = range(out.len(), rng);
    let copy = out[r].to_vec();
    let at = rng.below(out.len() + 1);
    out.splice(at..at, copy);
}

fn truncate(out: &mut Vec<u8>, rng: &mut Rng) {
    let len = rng.below(out.len() + 1);
    out.truncate(len);
}

/// Replaces a run of digits with a boundary number.
fn replace_number(out: &mut Vec<u8>, rng: &mut Rng) {
    let digits: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].is_ascii_digit())
        .collect();
    if digits.is_empty() {
        return;
    }
    let start = digits[rng.below(digits.len())];
    let end = (start..out.len())
        .find(|&i| !out[i].is_ascii_digit())
        .unwrap_or(out.len());
    let number = NUMBERS[rng.below(NUMBERS.len())].as_bytes().to_vec();
    out.splice(start..end, number);
}

/// This input's head with another's tail.
fn splice(out: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng) {
    if corpus.is_empty() {
        return;
    }
    let other = &corpus[rng.below(corpus.len())];
    let cut = rng.below(out.len() + 1);
    let from = rng.below(other.len() + 1);
    out.truncate(cut);
    out.extend_from_slice(&other[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_inputs() {
        let mutator = Mutator::new(&["token"]);
        let parent = br#"{"event":"$pageview","properties":{"n":[1,2]}}"#;
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..50)
                .map(|_| mutator.mutate(parent, &[], &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn json_edits_keep_the_bytes_around_the_value() {
        let mutator = Mutator::new(&[]);
        let mut rng = Rng::new(1);
        let mut edited = 0;
        for _ in 0..200 {
            let mut out = b"head\n{\"a\":[1,2,3]}\ntail".to_vec();
            mutator.mutate_json(&mut out, &mut rng);
            assert!(
                out.starts_with(b"head\n"),
                "{}",
                String::from_utf8_lossy(&out)
            );
            assert!(
                out.ends_with(b"\ntail"),
                "{}",
                String::from_utf8_lossy(&out)
            );
            edited += usize::from(out != b"head\n{\"a\":[1,2,3]}\ntail");
        }
        assert!(edited > 150, "only {edited} of 200 edits changed the value");
    }
}
