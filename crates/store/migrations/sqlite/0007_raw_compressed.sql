-- Events as received are kept LZ4-compressed (JSON shrinks four- to
-- eightfold): `raw` is then empty and `raw_lz4` holds the record.
ALTER TABLE events ADD COLUMN raw_lz4 BLOB;
