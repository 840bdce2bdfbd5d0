//! Entity postings as lists (migration 0028): which events name an entity,
//! kept a row per entity, time bucket and batch instead of a row per
//! event.
//!
//! A posting a row cost intake about 7,000 instructions: 1,650 to append
//! it to `entity_recent`, 5,300 to move it into the sorted table later. A
//! 2,000-event batch of Windows events wrote some 5,000 postings but named
//! only about 560 entities, so its postings fit in 560 rows.
//!
//! A list's text is a JSON array of pairs flattened, `[offset, seq,
//! offset, seq, ...]`: each posting's time as microseconds after its
//! bucket's start, then its event's `seq`. JSON so that the view
//! `event_entities` can read it with `json_each`. The pairs are in no
//! particular order (intake writes them in `seq` order); readers sort.
//!
//! A bucket is 2^32 microseconds (about 71.6 minutes): `time >> 32`. A
//! lookup over a time range reads only the buckets it overlaps, whatever
//! order the events arrived in.

use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{QueryBuilder, Sqlite};

use crate::{Result, StoreError};

/// Bits of a posting's time below its bucket.
const BUCKET_BITS: u32 = 32;

/// The bucket of a posting at `time` (microseconds since the epoch).
pub(super) fn bucket(time: i64) -> i64 {
    time >> BUCKET_BITS
}

/// One list row: an entity's postings of one bucket, written together.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct List {
    pub(super) entity: i64,
    pub(super) bucket: i64,
    /// The smallest `seq` of the list as written: lists of one entity and
    /// bucket never share it (each event is posted once an entity).
    pub(super) first_seq: i64,
    pub(super) postings: String,
}

/// The lists of `postings` (`[entity, time, seq]` each, one posting an
/// entity an event), in key order: one per entity and bucket. Sorts
/// `postings`.
pub(super) fn lists(postings: &mut [[i64; 3]]) -> Vec<List> {
    postings.sort_unstable_by_key(|&[entity, time, seq]| (entity, bucket(time), seq));
    let mut out = Vec::new();
    let mut rest = &postings[..];
    while let Some(&[entity, time, seq]) = rest.first() {
        let b = bucket(time);
        let n = rest
            .iter()
            .position(|&[e, t, _]| e != entity || bucket(t) != b)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(n);
        out.push(List {
            entity,
            bucket: b,
            first_seq: seq,
            postings: encode(b, group.iter().map(|&[_, time, seq]| (time, seq))),
        });
        rest = tail;
    }
    out
}

/// The text of a list of `bucket` holding `postings` (`(time, seq)`
/// each, every time in the bucket), in their order.
fn encode(bucket: i64, postings: impl ExactSizeIterator<Item = (i64, i64)>) -> String {
    // An offset has up to 10 digits; a `seq`, 19 (rarely over 10).
    let mut text = String::with_capacity(2 + postings.len() * 24);
    text.push('[');
    for (i, (time, seq)) in postings.enumerate() {
        if i > 0 {
            text.push(',');
        }
        push_int(&mut text, time - (bucket << BUCKET_BITS));
        text.push(',');
        push_int(&mut text, seq);
    }
    text.push(']');
    text
}

/// Append the postings of the list `more` to the list `list` (texts as
/// [`lists`] writes them).
pub(super) fn append(list: &mut String, more: &str) {
    let more = more.trim();
    let more = more.strip_prefix('[').unwrap_or(more);
    let more = more.strip_suffix(']').unwrap_or(more).trim();
    if more.is_empty() {
        return;
    }
    if list.ends_with(']') {
        list.pop();
    }
    if list.len() > 1 {
        list.push(',');
    }
    list.push_str(more);
    list.push(']');
}

/// The two digits of each number below 100.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Append `n` in decimal, two digits a step (a list's numbers are most
/// of its making).
fn push_int(out: &mut String, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + rest as u8;
    }
    if n < 0 {
        out.push('-');
    }
    // ASCII digits: never the fallback.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or("0"));
}

/// Each posting `(time, seq)` of the list `text` of `bucket`, in the
/// list's order. An error names what in the text is wrong.
pub(super) fn read(bucket: i64, text: &str) -> Result<Vec<(i64, i64)>> {
    let corrupt = |reason: String| StoreError::Corrupt {
        what: "entity postings list",
        reason,
    };
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| corrupt(format!("not a JSON array: {:.40}", text)))?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut numbers = inner.split(',').map(|n| {
        n.trim()
            .parse::<i64>()
            .map_err(|e| corrupt(format!("{n:.24}: {e}")))
    });
    let base = bucket
        .checked_mul(1 << BUCKET_BITS)
        .ok_or_else(|| corrupt(format!("bucket {bucket} out of range")))?;
    while let Some(offset) = numbers.next() {
        let offset = offset?;
        let seq = numbers
            .next()
            .ok_or_else(|| corrupt("an odd count of numbers".into()))??;
        if !(0..1 << BUCKET_BITS).contains(&offset) {
            return Err(corrupt(format!("offset {offset} outside its bucket")));
        }
        out.push((base + offset, seq));
    }
    Ok(out)
}

/// The text of the postings of `bucket` at or after `cut`, or `None` when
/// none is: what retention keeps of a list.
pub(super) fn kept_from(bucket: i64, text: &str, cut: i64) -> Result<Option<String>> {
    let mut kept = read(bucket, text)?;
    kept.retain(|&(time, _)| time >= cut);
    Ok((!kept.is_empty()).then(|| encode(bucket, kept.into_iter())))
}

/// Push the postings `(seq, time)` of entity `number` in `from..=to`
/// that `entity_lists` holds onto `out`: at least its earliest `limit`
/// there (whole buckets are read, in time order, until `limit` are found).
pub(super) async fn find_sorted(
    pool: &SqlitePool,
    number: i64,
    (from, to): (i64, i64),
    limit: u32,
    out: &mut Vec<(i64, i64)>,
) -> Result<()> {
    let mut rows = sqlx::query_as::<_, (i64, String)>(
        "SELECT bucket, postings FROM entity_lists WHERE entity = ? AND bucket BETWEEN ? AND ? \
         ORDER BY bucket, first_seq",
    )
    .bind(number)
    .bind(bucket(from))
    .bind(bucket(to))
    .fetch(pool);
    let mut found = 0usize;
    let mut last = None;
    while let Some((b, text)) = rows.try_next().await? {
        // Every posting of a later bucket is later than all found so far.
        if last != Some(b) && found >= limit as usize {
            break;
        }
        last = Some(b);
        found += push_within(b, &text, (from, to), out)?;
    }
    Ok(())
}

/// Push the postings `(seq, time)` in `from..=to` of the entities
/// `numbers` that `entity_recent` holds onto `out`: one pass over the
/// unsorted part for all of them.
pub(super) async fn find_recent(
    pool: &SqlitePool,
    numbers: &[i64],
    (from, to): (i64, i64),
    out: &mut Vec<(i64, i64)>,
) -> Result<()> {
    let mut q: QueryBuilder<Sqlite> =
        QueryBuilder::new("SELECT bucket, postings FROM entity_recent WHERE entity IN (");
    let mut sep = q.separated(", ");
    for n in numbers {
        sep.push_bind(*n);
    }
    q.push(") AND bucket BETWEEN ")
        .push_bind(bucket(from))
        .push(" AND ")
        .push_bind(bucket(to));
    let mut rows = q.build_query_as::<(i64, String)>().fetch(pool);
    while let Some((b, text)) = rows.try_next().await? {
        push_within(b, &text, (from, to), out)?;
    }
    Ok(())
}

/// Push the postings `(seq, time)` in `from..=to` of the list `text` of
/// bucket `b` onto `out`; how many.
fn push_within(
    b: i64,
    text: &str,
    (from, to): (i64, i64),
    out: &mut Vec<(i64, i64)>,
) -> Result<usize> {
    let before = out.len();
    out.extend(
        read(b, text)?
            .into_iter()
            .filter(|(time, _)| (from..=to).contains(time))
            .map(|(time, seq)| (seq, time)),
    );
    Ok(out.len() - before)
}

/// The statements of [`purge`] for one part: the lists of the tenant's
/// earlier buckets; those of the cut's bucket; one trimmed; one emptied.
macro_rules! purge_part {
    ($table:literal) => {
        [
            concat!(
                "DELETE FROM ",
                $table,
                " WHERE entity IN (SELECT id FROM entity_names WHERE tenant_id = ?) AND bucket < ?"
            ),
            concat!(
                "SELECT entity, first_seq, postings FROM ",
                $table,
                " WHERE entity IN (SELECT id FROM entity_names WHERE tenant_id = ?) AND bucket = ?"
            ),
            concat!(
                "UPDATE ",
                $table,
                " SET postings = ? WHERE entity = ? AND bucket = ? AND first_seq = ?"
            ),
            concat!(
                "DELETE FROM ",
                $table,
                " WHERE entity = ? AND bucket = ? AND first_seq = ?"
            ),
        ]
    };
}

/// Remove the tenant's postings before `cut` from both parts: the lists
/// of earlier buckets whole, those of the cut's own bucket trimmed.
pub(super) async fn purge(conn: &mut SqliteConnection, tenant: &str, cut: i64) -> Result<()> {
    let b = bucket(cut);
    for [before, boundary, trim, empty] in
        [purge_part!("entity_lists"), purge_part!("entity_recent")]
    {
        sqlx::query(before)
            .bind(tenant)
            .bind(b)
            .execute(&mut *conn)
            .await?;
        let lists: Vec<(i64, i64, String)> = sqlx::query_as(boundary)
            .bind(tenant)
            .bind(b)
            .fetch_all(&mut *conn)
            .await?;
        for (entity, first_seq, text) in lists {
            let q = match kept_from(b, &text, cut)? {
                Some(kept) => sqlx::query(trim).bind(kept),
                None => sqlx::query(empty),
            };
            q.bind(entity)
                .bind(b)
                .bind(first_seq)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_are_grouped_by_entity_and_bucket_and_read_back_whole() {
        let hour = 3_600_000_000;
        let t0 = 1_795_000_000_000_000; // late 2026, in microseconds
        let mut postings = vec![
            [7, t0 + 5, 12],
            [3, t0, 10],
            [7, t0, 10],
            [7, t0 + 2 * hour, 13],
            [3, t0 + 1, 11],
            [7, -5, 14],
        ];
        let lists = lists(&mut postings);
        let keys: Vec<_> = lists
            .iter()
            .map(|l| {
                let len = read(l.bucket, &l.postings).expect("read").len();
                (l.entity, l.bucket, l.first_seq, len)
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                (3, bucket(t0), 10, 2),
                (7, -1, 14, 1),
                (7, bucket(t0), 10, 2),
                (7, bucket(t0 + 2 * hour), 13, 1),
            ]
        );
        let all: Vec<_> = lists
            .iter()
            .flat_map(|l| read(l.bucket, &l.postings).expect("read"))
            .collect();
        assert_eq!(
            all,
            vec![
                (t0, 10),
                (t0 + 1, 11),
                (-5, 14),
                (t0, 10),
                (t0 + 5, 12),
                (t0 + 2 * hour, 13)
            ]
        );
        assert!(lists[0].postings.starts_with('['), "{}", lists[0].postings);
        let json: serde_json::Value = serde_json::from_str(&lists[2].postings).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(4), "pairs flattened");
    }

    #[test]
    fn a_list_that_is_not_pairs_of_numbers_in_its_bucket_is_refused_with_the_reason() {
        for (text, says) in [
            ("{}", "not a JSON array"),
            ("[1,2,3]", "odd count"),
            ("[1,x]", "x"),
            ("[4294967296,1]", "outside its bucket"),
            ("[-1,1]", "outside its bucket"),
        ] {
            let err = read(5, text).expect_err(text).to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert_eq!(read(5, "[]").expect("empty"), vec![]);
        assert!(
            read(i64::MAX, "[0,1]").is_err(),
            "a bucket past the end of time"
        );
    }

    #[test]
    fn retention_keeps_the_postings_at_or_after_the_cut() {
        let b = 400_000;
        let start = b << BUCKET_BITS;
        let mut postings = vec![[1, start + 10, 1], [1, start + 20, 2], [1, start + 30, 3]];
        let list = lists(&mut postings).pop().expect("one list");
        let kept = kept_from(b, &list.postings, start + 20)
            .expect("read")
            .expect("some kept");
        assert_eq!(read(b, &kept).expect("read").len(), 2);
        assert_eq!(
            read(b, &kept).expect("read"),
            vec![(start + 20, 2), (start + 30, 3)]
        );
        assert_eq!(
            kept_from(b, &list.postings, start + 31).expect("read"),
            None
        );
    }

    #[test]
    fn a_list_appended_to_another_holds_the_postings_of_both() {
        let mut list = String::from("[1,2]");
        append(&mut list, "[3,4,5,6]");
        assert_eq!(read(0, &list).expect("read"), vec![(1, 2), (3, 4), (5, 6)]);
        append(&mut list, "[]");
        assert_eq!(list, "[1,2,3,4,5,6]");
        let mut empty = String::from("[]");
        append(&mut empty, "[7,8]");
        assert_eq!(empty, "[7,8]");
    }

    /// Lists as [`lists`] writes them read back to their postings, and any
    /// other text is read, trimmed or appended without a panic.
    #[test]
    fn random_postings_read_back_and_random_texts_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let n = (next() % 40) as usize;
            let mut postings: Vec<[i64; 3]> = (0..n)
                .map(|i| {
                    let time = (next() as i64) >> (next() % 64);
                    [(next() % 3) as i64, time, i as i64]
                })
                .collect();
            let mut want: Vec<(i64, i64)> = postings.iter().map(|p| (p[1], p[2])).collect();
            let mut got: Vec<(i64, i64)> = lists(&mut postings)
                .iter()
                .flat_map(|l| read(l.bucket, &l.postings).expect("read"))
                .collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want);
        }
        let alphabet = b"[],-0123456789 x4294967296";
        for _ in 0..5_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            let bucket = (next() as i64) >> (next() % 64);
            let _ = read(bucket, &text);
            let _ = kept_from(bucket, &text, next() as i64);
            let mut list = text.clone();
            append(&mut list, &text);
        }
    }

    #[test]
    fn numbers_are_written_in_decimal_whatever_their_sign_and_size() {
        for n in [
            0,
            7,
            -7,
            10,
            99,
            100,
            101,
            -100,
            4_294_967_295,
            i64::MAX,
            i64::MIN,
        ] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
