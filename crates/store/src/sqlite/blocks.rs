//! Event blocks (migration 0025): the records of consecutive events of a
//! batch compressed together, with (in blocks written before session 18,
//! or by a writer not given `AdditionalFields`' maker) their hunting
//! rows' `additional` texts.
//!
//! Compressed one by one, a 2 KB Windows record came to about 0.9 KB and
//! its `additional` (0.7 KB, stored as text in `hunt_additional`) not at
//! all; both were written twice (log, then checkpoint), and those bytes
//! were most of what bounded intake. Records of one source resemble each
//! other, so a block of them compresses several times better than each
//! alone, and an event's row keeps only its block and its place in it.
//!
//! A block's plain form: a count (u32, little-endian), the end offset of
//! each item (u32 each), then the items' bytes. Two layouts:
//! - *records and texts*: the count is `n` items; event `i` has its record
//!   at item `2i` and its `additional` at item `2i + 1` (empty: none);
//! - *records only* (the count's top bit set, [`RECORDS_ONLY`]): event `i`
//!   has its record at item `i`, and a hunt that reads its `additional`
//!   makes it from the record (`HuntStore::derive_additional`). Making
//!   that text was a tenth of intake's work, for a column hunts seldom
//!   read.
//!
//! The whole is LZ4 with its plain size in front.

use std::sync::Mutex;

use vigil_core::hunting::AdditionalOf;

use crate::{Result, StoreError};

/// Events per block: enough for the compressor to find the next record's
/// likeness within its 64 KiB window, few enough that reading one event
/// decompresses little (about 80 KB plain for Windows records).
pub(super) const EVENTS_PER_BLOCK: usize = 32;

/// The count's bit that marks a block of records only.
const RECORDS_ONLY: u32 = 1 << 31;

/// Compress events into one block: each event's record and its hunting
/// row's `additional` text (empty: none), at items `2i` and `2i + 1`.
pub(super) fn pack_events<'a>(events: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
    let items: Vec<&[u8]> = events.flat_map(|(raw, extra)| [raw, extra]).collect();
    pack(&items, 0)
}

/// Compress events' records alone into one block, event `i` at item `i`.
pub(super) fn pack_records(records: &[&[u8]]) -> Vec<u8> {
    pack(records, RECORDS_ONLY)
}

/// Compress `items` into one block, `flags` in its count.
fn pack(items: &[&[u8]], flags: u32) -> Vec<u8> {
    let n = items.len();
    let body: usize = items.iter().map(|i| i.len()).sum();
    let mut plain = Vec::with_capacity(4 + 4 * n + body);
    plain.extend_from_slice(&(count(n) | flags).to_le_bytes());
    let mut end = 0usize;
    for item in items {
        end += item.len();
        plain.extend_from_slice(&count(end).to_le_bytes());
    }
    for item in items {
        plain.extend_from_slice(item);
    }
    lz4_flex::compress_prepend_size(&plain)
}

fn count(n: usize) -> u32 {
    // A block holds one batch's share of events: far below 2^31.
    u32::try_from(n).unwrap_or(u32::MAX) & !RECORDS_ONLY
}

/// A block decompressed, its items at hand.
#[derive(Debug)]
pub(super) struct Block {
    plain: Vec<u8>,
    n: usize,
    /// Records alone (no `additional` texts): see the module's text.
    records_only: bool,
}

impl Block {
    /// Decompress and check a stored block.
    pub(super) fn unpack(data: &[u8]) -> Result<Block> {
        let plain = lz4_flex::decompress_size_prepended(data)
            .map_err(|e| StoreError::corrupt("event block", e))?;
        let word = |at: usize| -> Option<usize> {
            let bytes = plain.get(at..at + 4)?;
            usize::try_from(u32::from_le_bytes(bytes.try_into().ok()?)).ok()
        };
        let count = word(0).ok_or_else(|| StoreError::corrupt("event block", "no item count"))?;
        let flag = RECORDS_ONLY as usize;
        let (n, records_only) = (count & !flag, count & flag != 0);
        let head = n
            .checked_mul(4)
            .and_then(|h| h.checked_add(4))
            .filter(|h| *h <= plain.len())
            .ok_or_else(|| StoreError::corrupt("event block", "item count past its end"))?;
        let mut last = 0;
        for i in 0..n {
            let end = word(4 + 4 * i).unwrap_or(usize::MAX);
            if end < last || head.checked_add(end).is_none_or(|e| e > plain.len()) {
                return Err(StoreError::corrupt(
                    "event block",
                    format!("item {i} ends past the block"),
                ));
            }
            last = end;
        }
        Ok(Block {
            plain,
            n,
            records_only,
        })
    }

    /// The record of event `index`, if the block has it.
    pub(super) fn record(&self, index: i64) -> Option<&[u8]> {
        let i = usize::try_from(index).ok()?;
        self.item(if self.records_only { i } else { 2 * i })
    }

    /// The `additional` text of event `index`, if it has one: stored, or
    /// made from its record by `from_record` in a block of records only
    /// (an error when none is given: a hunt would read NULL for text the
    /// event has).
    pub(super) fn additional(
        &self,
        index: i64,
        from_record: Option<AdditionalOf>,
    ) -> Result<Option<String>> {
        if !self.records_only {
            let i = usize::try_from(index).unwrap_or(usize::MAX);
            let text = i.checked_mul(2).and_then(|k| self.item(k + 1));
            return Ok(text
                .filter(|t| !t.is_empty())
                .map(|t| String::from_utf8_lossy(t).into_owned()));
        }
        let Some(record) = self.record(index) else {
            return Ok(None);
        };
        let make = from_record.ok_or_else(|| {
            StoreError::corrupt(
                "event block",
                "AdditionalFields is made from the record here, and this store was given nothing to make it with",
            )
        })?;
        Ok(make(record))
    }

    /// Item `i`, if the block has it.
    fn item(&self, i: usize) -> Option<&[u8]> {
        if i >= self.n {
            return None;
        }
        let head = 4 + 4 * self.n;
        let at = |k: usize| -> usize {
            let w = &self.plain[4 + 4 * k..8 + 4 * k];
            u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize
        };
        let start = if i == 0 { 0 } else { at(i - 1) };
        Some(&self.plain[head + start..head + at(i)])
    }
}

/// The last block read, kept while rows of the same block follow (a hunt's
/// rows come in time order, so a block's events mostly come together).
#[derive(Debug, Default)]
pub(super) struct BlockCache {
    last: Option<(i64, Block)>,
}

impl BlockCache {
    /// Block `id`, whose stored bytes `data` gives when it is not the
    /// cached one.
    fn block(&mut self, id: i64, data: impl FnOnce() -> Result<Vec<u8>>) -> Result<&Block> {
        let last = match self.last.take() {
            Some(last) if last.0 == id => last,
            _ => (id, Block::unpack(&data()?)?),
        };
        Ok(&self.last.insert(last).1)
    }
}

/// Register `vigil_additional(block_id, block_data, index)` on a
/// connection: the `additional` text of event `index` of the block (NULL
/// when it has none), made by `from_record` in blocks of records only.
/// Hunts read `AdditionalFields` through it.
pub(super) fn register_functions(
    conn: &rusqlite::Connection,
    from_record: Option<AdditionalOf>,
) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let cache = Mutex::new(BlockCache::default());
    conn.create_scalar_function(
        "vigil_additional",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let (Some(id), Some(index)) = (ctx.get::<Option<i64>>(0)?, ctx.get::<Option<i64>>(2)?)
            else {
                return Ok(None);
            };
            let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            let block = cache
                .block(id, || {
                    ctx.get::<Vec<u8>>(1)
                        .map_err(|e| StoreError::corrupt("event block", e))
                })
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            block
                .additional(index, from_record)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        },
    )?;
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re = ctx.get_or_create_aux(0, |v| {
                regex::Regex::new(v.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
            })?;
            let text: Option<String> = ctx.get(1)?;
            Ok(text.map(|t| re.is_match(&t)))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_block_gives_back_each_item_whole() {
        let items: Vec<&[u8]> = vec![b"{\"a\":1}", b"", b"{\"b\":2}", b"extra"];
        let block = Block::unpack(&pack(&items, 0)).expect("block");
        for (i, item) in items.iter().enumerate() {
            assert_eq!(block.item(i), Some(*item));
        }
        assert_eq!(block.item(items.len()), None);
    }

    #[test]
    fn a_damaged_block_is_reported_not_read() {
        let packed = pack(&[b"one", b"two"], 0);
        let mut plain = lz4_flex::decompress_size_prepended(&packed).expect("plain");
        plain[4..8].copy_from_slice(&1000u32.to_le_bytes());
        let damaged = lz4_flex::compress_prepend_size(&plain);
        let err = Block::unpack(&damaged).expect_err("damaged").to_string();
        assert!(err.contains("event block"), "{err}");
        assert!(Block::unpack(b"\x05\0\0\0xx").is_err());
    }

    #[test]
    fn the_cache_reads_a_block_once_for_its_events() {
        let packed = pack_events([(&b"r0"[..], &b"a0"[..]), (b"r1", b"")].into_iter());
        let mut cache = BlockCache::default();
        let mut reads = 0;
        for (index, want) in [(0, b"r0"), (1, b"r1")] {
            let block = cache
                .block(7, || {
                    reads += 1;
                    Ok(packed.clone())
                })
                .expect("block");
            assert_eq!(block.record(index), Some(&want[..]));
        }
        assert_eq!(reads, 1);
        assert!(cache.block(8, || Ok(b"junk".to_vec())).is_err());
    }

    fn made(record: &[u8]) -> Option<String> {
        Some(format!("made from {}", String::from_utf8_lossy(record)))
    }

    #[test]
    fn a_block_of_records_gives_each_at_its_place_and_makes_additional_from_it() {
        let records: Vec<&[u8]> = vec![b"{\"a\":1}", b"{\"b\":2}", b"{\"c\":3}"];
        let block = Block::unpack(&pack_records(&records)).expect("block");
        for (i, record) in records.iter().enumerate() {
            let i = i as i64;
            assert_eq!(block.record(i), Some(*record));
            let text = block.additional(i, Some(made)).expect("made");
            assert_eq!(
                text.as_deref(),
                Some(format!("made from {}", String::from_utf8_lossy(record)).as_str())
            );
        }
        assert_eq!(block.record(3), None);
        assert_eq!(block.additional(3, Some(made)).expect("none"), None);
        assert_eq!(block.additional(-1, Some(made)).expect("none"), None);
    }

    #[test]
    fn a_block_of_records_refuses_to_answer_additional_with_nothing_to_make_it() {
        let block = Block::unpack(&pack_records(&[b"{}"])).expect("block");
        let err = block.additional(0, None).expect_err("no maker").to_string();
        assert!(err.contains("AdditionalFields"), "{err}");
    }

    #[test]
    fn a_block_with_texts_gives_the_stored_text_whatever_the_maker() {
        let packed = pack_events([(&b"r0"[..], &b"a0"[..]), (b"r1", b"")].into_iter());
        let block = Block::unpack(&packed).expect("block");
        assert_eq!(block.record(1), Some(&b"r1"[..]));
        assert_eq!(
            block.additional(0, Some(made)).expect("text").as_deref(),
            Some("a0")
        );
        assert_eq!(
            block.additional(0, None).expect("text").as_deref(),
            Some("a0")
        );
        assert_eq!(block.additional(1, Some(made)).expect("none"), None);
    }
}
