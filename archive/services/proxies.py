"""Web proxies: H.264/AAC copies of footage that browsers cannot play as it is, or that viewers who may
not have the original play (archive.access.may_have_original), and AAC copies of recordings for them."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from archive import mediatools
from archive.models import Derivative, ItemKind, Job, MediaFile
from archive.services.jobs import JobFailed, media_file_of

if TYPE_CHECKING:
    from archive.core import Archive


def make_proxy_for(archive: Archive, job: Job) -> None:
    """Encode the proxy of the job's media file and record it; raises JobFailed with the reason."""
    with archive.Session() as session:
        media = media_file_of(session, job)
        sha = media.sha256
        if media.derivative("proxy") is not None and archive.store.is_stored(media.derivative("proxy").path):
            return
        media_id, audio_only = media.id, media.item.kind is ItemKind.audio
    name, mime = ("proxy.m4a", "audio/mp4") if audio_only else ("proxy.mp4", "video/mp4")
    work_dir = archive.store.staging_dir()
    try:
        out = work_dir / name
        settings = archive.settings
        try:
            with archive.store.fetch(archive.store.original_relpath(sha)) as src:
                mediatools.make_proxy(src, out, timeout=settings["proxy_timeout"],
                                      max_height=settings["proxy_max_height"], crf=settings["proxy_crf"],
                                      preset=settings["proxy_preset"], audio_only=audio_only)
            info = mediatools.identify(out, ffprobe_timeout=settings["ffprobe_timeout"],
                                       max_image_pixels=settings["max_image_pixels"])
        except (mediatools.MediaToolError, mediatools.NotMedia, FileNotFoundError) as exc:
            raise JobFailed(str(exc)) from exc
        reldir = archive.store.derivative_reldir(sha)
        with archive.session() as session:
            media = session.get(MediaFile, media_id)
            assert media is not None
            old = media.derivative("proxy")
            if old is not None:
                session.delete(old)
                session.flush()
            session.add(Derivative(media_file_id=media_id, kind="proxy", path=f"{reldir}/{name}",
                                   mime_type=mime, width=info.width, height=info.height,
                                   size=out.stat().st_size, info={"duration": info.duration}))
            session.flush()
            archive.store.place_derivatives(sha, work_dir, [name])
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
