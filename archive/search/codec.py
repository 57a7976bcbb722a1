"""whoosh's W3 codec, tuned for an index with millions of short posting lists.

* Posting lists of up to INLINE documents are stored inside their term's entry (whoosh's
  `inlinelimit` tests `len < limit`, so its default of 1 never inlines): most phrase pairs and
  rare words occur a few times, and a block of their own (pickled, compressed, headed) cost more
  to write and to read than the postings themselves.
  (whoosh-reloaded 2.7.5's inline path also calls a method that does not exist, `set_inline`;
  `_PostingsWriter` calls `set_inlined`.)
* Whether a segment has a column is remembered: whoosh asks the file system once per posting
  while writing (for the lengths column of fields that have none), a stat() per posting.
* A field's length column (one byte per document) is read once into memory: whoosh reads it
  with a seek and a read per posting, when writing and when scoring.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, W3PostingsWriter, _lenfield
from whoosh.util.numeric import byte_to_length

INLINE = 8  #: posting lists shorter than this live in the term dictionary
COMPRESSION = 1  #: zlib level for posting blocks (level 1: nearly as small, much faster than 3)


class _PerDocReader(W3PerDocReader):
    def has_column(self, fieldname: str) -> bool:
        known: dict[str, bool] = self.__dict__.setdefault("_has_column", {})
        found = known.get(fieldname)
        if found is None:
            found = known[fieldname] = super().has_column(fieldname)
        return found

    def length_bytes(self, fieldname: str) -> bytes | None:
        """The field's length column: one byte (whoosh's length_to_byte) per document, or None."""
        lengths: dict[str, bytes | None] = self.__dict__.setdefault("_lengths", {})
        if fieldname not in lengths:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths[fieldname] = None if reader is None else bytes(reader._dbfile.get(reader._basepos, reader._count))
        return lengths[fieldname]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        raw = self.length_bytes(fieldname)
        if raw is None:
            return default
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        lbyte = raw[docnum] if docnum < len(raw) else 0
        return byte_to_length(lbyte) if lbyte else None  # as whoosh's: None for an empty field


class _PostingsWriter(W3PostingsWriter):
    def add_posting(self, id_: Any, weight: float, vbytes: Any, length: int | None = None) -> None:
        # Inlined postings without values read back "" (a str) when segments are merged.
        super().add_posting(id_, weight, vbytes or b"", length)

    def finish_postings(self) -> Any:
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            # One value per posting, b"" when the format has none: whoosh's merge reads them in step.
            values = self._values if len(self._values) == len(self._ids) else [b""] * len(self._ids)
            terminfo.set_inlined(self._ids, self._weights, values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class Codec(W3Codec):
    def __init__(self, blocklimit: int = 128, compression: int = COMPRESSION, inlinelimit: int = INLINE) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PerDocReader(storage, segment)
