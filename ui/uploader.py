"""The video file picker: files go from the browser straight to PUT /uploads (web/uploads.py),
each with its own progress bar, instead of through Streamlit's uploader, which holds every file
in the web process's memory. The page gets back the staged files (id, name, size, or an error).

File names are only ever set as text (never as HTML): a name is the uploader's own input.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import storage, uploads
from ui.session import settings
from ui.widgets import app_url

_HTML = """
<label class="drop">
  <input type="file" multiple>
  <span class="hint"></span>
</label>
<ul class="files"></ul>
"""

_CSS = """
.drop { display: block; border: 1px dashed var(--st-border-color, #999); border-radius: 0.5rem;
        padding: 1rem; cursor: pointer; font-family: var(--st-font, sans-serif); }
.drop input { display: block; margin-bottom: 0.4rem; }
.hint { color: var(--st-text-color, inherit); opacity: 0.7; font-size: 0.85rem; }
.files { list-style: none; padding: 0; margin: 0.5rem 0 0 0; font-family: var(--st-font, sans-serif);
         font-size: 0.9rem; }
.files li { margin: 0.3rem 0; }
.files progress { width: 100%; height: 0.5rem; }
"""

_JS = """
export default function (component) {
  const { data, setStateValue, parentElement } = component;
  const input = parentElement.querySelector("input");
  const list = parentElement.querySelector(".files");
  input.accept = data.accept;
  parentElement.querySelector(".hint").textContent = data.hint;
  const done = parentElement.__askvideoDone || (parentElement.__askvideoDone = []);

  function size(bytes) {  // as ui.widgets.file_size says it
    if (bytes >= 1073741824) return (bytes / 1073741824).toFixed(1) + " GB";
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function row(file) {
    const item = document.createElement("li");
    const label = document.createElement("div");
    label.textContent = file.name + " · " + size(file.size);
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    item.append(label, bar);
    list.append(item);
    return { label, bar, item };
  }

  function report(file, view, reply) {
    view.item.remove();  // the page lists what arrived, and why a file was refused
    done.push({ name: file.name, size: file.size, id: reply.id || null, error: reply.error || null });
    setStateValue("files", done.slice());
  }

  function send(file) {
    return new Promise((resolve) => {
      const view = row(file);
      if (file.size > data.maxBytes) {
        report(file, view, { error: "Larger than the " + data.maxMb + " MB limit." });
        return resolve();
      }
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", data.endpoint + "?name=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("X-Upload-Token", data.token);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) view.bar.value = (100 * e.loaded) / e.total; };
      xhr.onload = () => {
        let reply;
        try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = { error: "The server did not accept the file." }; }
        report(file, view, reply);
        resolve();
      };
      xhr.onerror = () => { report(file, view, { error: "The upload was interrupted; try again." }); resolve(); };
      xhr.send(file);
    });
  }

  input.onchange = async () => {
    const files = Array.from(input.files);
    input.value = "";
    for (const file of files) await send(file);
  };
}
"""

_component = st.components.v2.component("askvideo_uploader", html=_HTML, css=_CSS, js=_JS)


@dataclass(frozen=True)
class Received:
    """A file the browser sent: staged (`id`) or refused (`error`)."""

    name: str
    size: int
    id: str | None
    error: str | None


def video_uploader(*, key: str, session_id: int) -> list[Received]:
    """The picker, and the files sent through it so far."""
    max_mb = settings().max_upload_mb
    result = _component(key=key, default={"files": []}, on_files_change=lambda: None, data={
        "endpoint": app_url() + uploads.ROUTE,
        "token": uploads.token(settings(), session_id),
        "accept": ",".join(sorted(storage.VIDEO_EXTENSIONS)),
        "hint": f"Choose or drop video or audio files ({', '.join(sorted(e.lstrip('.') for e in storage.VIDEO_EXTENSIONS))}), "
                f"up to {max_mb} MB each.",
        "maxBytes": max_mb * 1024 * 1024,
        "maxMb": max_mb,
    })
    received = []
    for entry in (result.files or []) if isinstance(result.files, list) else []:
        if isinstance(entry, dict):
            received.append(Received(str(entry.get("name") or "file")[:500], int(entry.get("size") or 0),
                                     entry.get("id") if isinstance(entry.get("id"), str) else None,
                                     str(entry["error"])[:500] if entry.get("error") else None))
    return received
