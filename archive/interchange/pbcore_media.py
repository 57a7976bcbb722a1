"""The pbcoreInstantiation elements of an item: its original, where the viewer may have it
(archive.access.may_have_original: its checksum and file name are withheld as its bytes are), and
each copy the viewer receives (the proxy; the access copy where they are offered), with essence
tracks from what ffprobe read at ingest. Children follow instantiationType's and essenceTrackType's
xs:sequence in pbcore-2.1.xsd."""

from __future__ import annotations

from datetime import datetime

from lxml import etree
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.identity import Identity
from archive.interchange import record
from archive.interchange.pbcore_xml import sub
from archive.interchange.xmltext import three_letter_list, timestamp
from archive.models import Derivative, Item, ItemKind, MediaFile

#: instantiationMediaType (PBCore's picklist) of each kind of item.
MEDIA_TYPES = {ItemKind.video: "Moving Image", ItemKind.audio: "Audio", ItemKind.still: "Static Image"}
#: instantiationGenerations (PBCore's picklist) of the original and of each copy.
GENERATIONS = {"original": "Original", "proxy": "Proxy", "access": "Copy: Access"}
#: Where each file is served (archive.web.files).
ROUTES = {"original": "original", "proxy": "proxy", "access": "access"}


def add_instantiations(doc: etree._Element, session: Session, viewer: Viewer, item: Item,
                       identity: Identity) -> None:
    """Append to `doc` the item's instantiations `viewer` may know of; none for a record whose media
    are not attached (pbcoreInstantiation is minOccurs="0")."""
    media = item.media
    if media is None:
        return
    holder = doc
    original = record.original_for(viewer, item)
    if original is not None:
        _original(holder, item, original, identity)
    for made in record.received_derivatives(session, item):
        _copy(holder, item, media, made, identity)


def _original(holder: etree._Element, item: Item, media: MediaFile, identity: Identity) -> None:
    inst = sub(holder, "pbcoreInstantiation")
    sub(inst, "instantiationIdentifier", media.sha256, source="SHA-256")
    sub(inst, "instantiationIdentifier", media.original_name, source="Original file name")
    if media.creation_time is not None:
        sub(inst, "instantiationDate", _iso(media.creation_time), dateType="created")
    sub(inst, "instantiationDate", _iso(media.ingested_at), dateType="ingested")
    if media.width and media.height:
        sub(inst, "instantiationDimensions", f"{media.width}x{media.height}", unitsOfMeasure="pixels")
    sub(inst, "instantiationDigital", media.mime_type or "application/octet-stream", source="MIME type")
    if media.container:
        sub(inst, "instantiationStandard", media.container, source="ffprobe format")
    sub(inst, "instantiationLocation", identity.url(f"{record.item_path(item)}/{ROUTES['original']}"))
    _media_type(inst, item)
    sub(inst, "instantiationGenerations", GENERATIONS["original"])
    sub(inst, "instantiationFileSize", media.size, unitsOfMeasure="bytes")
    if media.duration is not None and item.kind is not ItemKind.still:
        sub(inst, "instantiationDuration", timestamp(media.duration))
    if media.bit_rate:
        sub(inst, "instantiationDataRate", media.bit_rate, unitsOfMeasure="bits/second")
    _language(inst, "instantiationLanguage", item)
    still = item.kind is ItemKind.still
    if media.video_codec or (media.width and media.height):
        track = sub(inst, "instantiationEssenceTrack")
        sub(track, "essenceTrackType", "Image" if still else "Video")
        if media.video_codec:
            sub(track, "essenceTrackEncoding", media.video_codec, source="ffprobe codec name")
        if media.frame_rate and not still:
            sub(track, "essenceTrackFrameRate", _number(media.frame_rate, 3), unitsOfMeasure="fps")
        if media.width and media.height:
            sub(track, "essenceTrackFrameSize", f"{media.width}x{media.height}", unitsOfMeasure="pixels")
        if media.duration is not None and not still:
            sub(track, "essenceTrackDuration", timestamp(media.duration))
        if media.pixel_format:
            sub(track, "essenceTrackAnnotation", media.pixel_format, annotationType="Pixel format")
        if media.rotation:
            sub(track, "essenceTrackAnnotation", f"{media.rotation} degrees clockwise",
                annotationType="Display rotation")
    if media.audio_codec or media.audio_sample_rate:
        track = sub(inst, "instantiationEssenceTrack")
        sub(track, "essenceTrackType", "Audio")
        if media.audio_codec:
            sub(track, "essenceTrackEncoding", media.audio_codec, source="ffprobe codec name")
        if media.audio_sample_rate:
            sub(track, "essenceTrackSamplingRate", _number(media.audio_sample_rate / 1000, 3), unitsOfMeasure="kHz")
        if media.duration is not None:
            sub(track, "essenceTrackDuration", timestamp(media.duration))
        _language(track, "essenceTrackLanguage", item)
        if media.audio_channels:
            sub(track, "essenceTrackAnnotation", media.audio_channels, annotationType="Channels")


def _copy(holder: etree._Element, item: Item, media: MediaFile, made: Derivative,
          identity: Identity) -> None:
    inst = sub(holder, "pbcoreInstantiation")
    # The copy's own names: nothing of the original's checksum or name (files.py's ETags are the same).
    sub(inst, "instantiationIdentifier", f"item-{item.id}-{made.kind}-{made.id}", source=identity.name)
    own_checksum = (made.info or {}).get("sha256")
    if own_checksum:
        sub(inst, "instantiationIdentifier", own_checksum, source="SHA-256")
    sub(inst, "instantiationDate", _iso(made.created_at), dateType="created")
    if made.width and made.height:
        sub(inst, "instantiationDimensions", f"{made.width}x{made.height}", unitsOfMeasure="pixels")
    sub(inst, "instantiationDigital", made.mime_type or "application/octet-stream", source="MIME type")
    sub(inst, "instantiationLocation", identity.url(f"{record.item_path(item)}/{ROUTES[made.kind]}"))
    _media_type(inst, item)
    sub(inst, "instantiationGenerations", GENERATIONS[made.kind])
    sub(inst, "instantiationFileSize", made.size, unitsOfMeasure="bytes")
    duration = (made.info or {}).get("duration") or media.duration
    timed = duration is not None and item.kind is not ItemKind.still
    if timed:
        sub(inst, "instantiationDuration", timestamp(float(duration)))
    _language(inst, "instantiationLanguage", item)
    if made.width and made.height:
        track = sub(inst, "instantiationEssenceTrack")
        sub(track, "essenceTrackType", "Image" if item.kind is ItemKind.still else "Video")
        sub(track, "essenceTrackFrameSize", f"{made.width}x{made.height}", unitsOfMeasure="pixels")
        if timed:
            sub(track, "essenceTrackDuration", timestamp(float(duration)))


def _media_type(inst: etree._Element, item: Item) -> None:
    if item.kind in MEDIA_TYPES:
        sub(inst, "instantiationMediaType", MEDIA_TYPES[item.kind])


def _language(parent: etree._Element, name: str, item: Item) -> None:
    codes = three_letter_list(item.language)
    if codes:
        sub(parent, name, codes, source="ISO 639-2")


def _number(value: float, decimals: int) -> str:
    """25.0 → "25", 29.97002997 → "29.97", 44.1 → "44.1"."""
    return f"{round(value, decimals):.{decimals}f}".rstrip("0").rstrip(".")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
