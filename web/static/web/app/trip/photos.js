/**
 * Albums and their photos: a grid, uploads with a progress bar, captions, likes and
 * comments. The open album's room (`album_<id>`) and the trip's room both bring photo
 * events; everything is kept by id, so an event seen twice changes nothing.
 */
import { api, fetchAll, loadImage, upload } from "../api.js";
import { $, busy, debounce, formError, h, show, toast } from "../dom.js";
import { dateTimeFormat, timeTag } from "../format.js";
import { app } from "../state.js";

const LIKE = "❤️";

export function resetPhotos() {
  $("album-list").replaceChildren();
  $("photo-grid").replaceChildren();
  show($("album-view"), false);
  formError($("album-error"), "");
  formError($("upload-error"), "");
  show($("upload-status"), false);
  if ($("photo-dialog").open) $("photo-dialog").close();
}

export async function loadAlbums(trip) {
  const albums = await fetchAll(`/api/trips/${trip.id}/albums/`);
  trip.albums = new Map(albums.map((a) => [a.id, a]));
}

/** Leave the album's room (on a switch of album, or when the trip closes). */
export function closeAlbum(trip) {
  for (const off of trip.albumUnsubscribe.splice(0)) off();
  trip.albumRoom?.leave();
  trip.albumRoom = null;
  trip.openAlbumId = null;
  trip.photos = new Map();
}

export function renderAlbums(trip) {
  const albums = [...trip.albums.values()].sort((a, b) => new Date(b.createdAt) - new Date(a.createdAt) || b.id - a.id);
  $("album-list").replaceChildren(
    ...albums.map((album) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            href: `#trip/${trip.id}/photos/${album.id}`,
            class: `album-link${album.id === trip.openAlbumId ? " active" : ""}`,
            "aria-current": album.id === trip.openAlbumId ? "true" : null,
            dataset: { testid: "album-item", albumId: album.id },
          },
          h("span", { class: "album-name" }, album.title),
          h("span", { class: "muted small" }, `${album.photoCount ?? 0} photo${album.photoCount === 1 ? "" : "s"}`),
        ),
      ),
    ),
  );
  show($("albums-empty"), albums.length === 0);
  if (trip.openAlbumId && !trip.albums.has(trip.openAlbumId)) {
    closeAlbum(trip);
    show($("album-view"), false);
  }
}

/** Show an album (the newest when none is named) and follow its room. */
export async function openAlbum(trip, albumId, onRoomEvent) {
  const id = albumId ?? [...trip.albums.values()].sort((a, b) => b.id - a.id)[0]?.id ?? null;
  if (id == null) {
    show($("album-view"), false);
    return;
  }
  if (trip.openAlbumId === id) return;
  closeAlbum(trip);
  trip.openAlbumId = id;
  renderAlbums(trip);
  const album = trip.albums.get(id);
  show($("album-view"), true);
  $("album-title").textContent = album?.title ?? "Album";
  $("album-description").textContent = album?.description ?? "";
  $("photo-grid").replaceChildren();
  show($("photos-empty"), false);
  const room = app.client.join(`album_${id}`);
  trip.albumRoom = room;
  trip.albumUnsubscribe.push(room.on("*", (message) => onRoomEvent(message.type, message.payload ?? {}, message)));
  trip.albumUnsubscribe.push(room.on("resync", () => reloadPhotos(trip, id)));
  await reloadPhotos(trip, id);
}

async function reloadPhotos(trip, albumId) {
  try {
    const photos = await fetchAll(`/api/albums/${albumId}/photos/`);
    if (trip.closed || trip.openAlbumId !== albumId) return;
    for (const photo of photos) trip.photos.set(photo.id, photo);
    renderGrid(trip);
  } catch (err) {
    if (err.status === 404) toast("That album is gone.", "error");
  }
}

function likeCount(photo) {
  return (photo.reactions ?? []).find((r) => r.emoji === LIKE)?.count ?? 0;
}

function tile(trip, photo) {
  return h(
    "li",
    { class: "photo", dataset: { testid: "photo-item", photoId: photo.id } },
    h(
      "button",
      { type: "button", class: "photo-open", "aria-label": photo.caption ? `Open photo: ${photo.caption}` : "Open photo", onclick: () => openPhoto(trip, photo.id) },
      loadImage(h("img", { alt: photo.caption || "Photo", loading: "lazy", width: 200, height: 200 }), photo.thumbnailUrl),
    ),
    h(
      "span",
      { class: "photo-meta" },
      h("span", { class: "photo-caption", dataset: { testid: "photo-caption" } }, photo.caption || ""),
      h("span", { class: "photo-stats muted small" }, `♥ ${likeCount(photo)} · ${photo.commentCount ?? 0} comment${photo.commentCount === 1 ? "" : "s"}`),
    ),
  );
}

export function renderGrid(trip) {
  const photos = [...trip.photos.values()].sort((a, b) => new Date(b.createdAt) - new Date(a.createdAt) || b.id - a.id);
  const grid = $("photo-grid");
  // Keep the tiles already shown (their images are loaded); replace only what changed.
  const existing = new Map([...grid.children].map((li) => [Number(li.dataset.photoId), li]));
  const rows = photos.map((photo) => {
    const old = existing.get(photo.id);
    const key = `${photo.caption}|${likeCount(photo)}|${photo.commentCount}`;
    if (old && old.dataset.key === key) return old;
    const fresh = tile(trip, photo);
    fresh.dataset.key = key;
    return fresh;
  });
  grid.replaceChildren(...rows);
  show($("photos-empty"), photos.length === 0);
  if (trip.openPhotoId != null) renderPhotoDialog(trip);
}

const refreshers = new Map();

/** Likes and comments change counts: read the photo again (once per burst). */
function refreshPhoto(trip, photoId) {
  if (!refreshers.has(photoId)) {
    refreshers.set(
      photoId,
      debounce(async () => {
        refreshers.delete(photoId);
        try {
          const photo = await api(`/api/photos/${photoId}/`);
          if (trip.closed || !trip.photos.has(photoId)) return;
          trip.photos.set(photoId, photo);
          renderGrid(trip);
        } catch {
          // deleted meanwhile: photo_deleted removes it
        }
      }, 150),
    );
  }
  refreshers.get(photoId)();
}

/** Photo and album events, from the trip's room or the album's. */
export function onPhotoEvent(trip, type, payload) {
  switch (type) {
    case "photo_uploaded":
    case "photo_updated": {
      const album = trip.albums.get(payload.album);
      // The open album's photos arrive through two rooms (kept by id); any other album's
      // only through the trip's room, once.
      if (type === "photo_uploaded" && album && (payload.album !== trip.openAlbumId || !trip.photos.has(payload.id))) {
        trip.albums.set(album.id, { ...album, photoCount: (album.photoCount ?? 0) + 1 });
        renderAlbums(trip);
      }
      if (payload.album === trip.openAlbumId) {
        trip.photos.set(payload.id, { ...trip.photos.get(payload.id), ...payload });
        renderGrid(trip);
      }
      break;
    }
    case "photo_deleted": {
      const id = payload.id ?? payload.photoId;
      if (trip.photos.delete(id)) {
        const album = trip.albums.get(trip.openAlbumId);
        if (album) trip.albums.set(album.id, { ...album, photoCount: Math.max(0, (album.photoCount ?? 1) - 1) });
        renderAlbums(trip);
        renderGrid(trip);
      }
      if (trip.openPhotoId === id) {
        $("photo-dialog").close();
        toast("That photo was deleted.");
      }
      break;
    }
    case "photo_liked":
    case "photo_unliked": {
      const photoId = payload.photo ?? payload.photoId;
      // photo_liked carries the reaction (`user`), photo_unliked the ids (`userId`).
      if ((payload.user?.id ?? payload.userId) === app.me?.id && payload.emoji === LIKE) {
        if (type === "photo_liked") trip.liked.add(photoId);
        else trip.liked.delete(photoId);
      }
      if (trip.photos.has(photoId)) refreshPhoto(trip, photoId);
      break;
    }
    case "photo_commented":
    case "photo_comment_deleted": {
      const photoId = payload.photo ?? payload.photoId;
      if (trip.openPhotoId === photoId) {
        if (type === "photo_commented") trip.comments.set(payload.id, payload);
        else trip.comments.delete(payload.id ?? payload.commentId);
        renderComments(trip);
      }
      if (trip.photos.has(photoId)) refreshPhoto(trip, photoId);
      break;
    }
    case "album_updated": {
      if (payload.action === "deleted") trip.albums.delete(payload.id);
      else {
        const { action: _action, ...album } = payload;
        trip.albums.set(album.id, { ...trip.albums.get(album.id), ...album });
        if (album.id === trip.openAlbumId) $("album-title").textContent = album.title;
      }
      renderAlbums(trip);
      break;
    }
  }
}

// --- one photo: image, caption, like, comments ------------------------------------------------

async function openPhoto(trip, photoId) {
  trip.openPhotoId = photoId;
  trip.comments = new Map();
  const dialog = $("photo-dialog");
  renderPhotoDialog(trip);
  renderComments(trip);
  if (!dialog.open) dialog.showModal();
  try {
    const [comments, reactions] = await Promise.all([
      fetchAll(`/api/photos/${photoId}/comments/`),
      fetchAll(`/api/photos/${photoId}/reactions/`),
    ]);
    if (trip.openPhotoId !== photoId) return;
    for (const c of comments) trip.comments.set(c.id, c);
    if (reactions.some((r) => r.user?.id === app.me?.id && r.emoji === LIKE)) trip.liked.add(photoId);
    else trip.liked.delete(photoId);
    renderComments(trip);
    renderPhotoDialog(trip);
  } catch {
    toast("Couldn't load the comments.", "error");
  }
}

function renderPhotoDialog(trip) {
  const photo = trip.photos.get(trip.openPhotoId);
  if (!photo) return;
  const img = $("photo-full");
  if (img.dataset.src !== photo.imageUrl) {
    img.removeAttribute("src");
    loadImage(img, photo.imageUrl);
  }
  img.alt = photo.caption || "Photo";
  $("photo-by").textContent = `${photo.uploadedBy?.username ?? "Someone"} · ${dateTimeFormat.format(new Date(photo.createdAt))}`;
  const form = $("caption-form");
  if (document.activeElement !== form.caption) form.caption.value = photo.caption ?? "";
  const liked = trip.liked.has(photo.id);
  const like = $("photo-like");
  like.setAttribute("aria-pressed", String(liked));
  like.classList.toggle("liked", liked);
  $("photo-like-count").textContent = String(likeCount(photo));
}

function renderComments(trip) {
  const comments = [...trip.comments.values()].sort((a, b) => new Date(a.createdAt) - new Date(b.createdAt) || a.id - b.id);
  $("photo-comments").replaceChildren(
    ...comments.map((c) =>
      h(
        "li",
        { dataset: { testid: "photo-comment", commentId: c.id } },
        h("span", { class: "msg-author" }, c.author?.username ?? "Someone"),
        " ",
        h("span", {}, c.text),
        " ",
        h("span", { class: "muted small" }, timeTag(c.createdAt, dateTimeFormat)),
      ),
    ),
  );
  show($("photo-comments-empty"), comments.length === 0);
}

async function toggleLike() {
  const trip = app.trip;
  const photoId = trip?.openPhotoId;
  if (photoId == null) return;
  const liked = trip.liked.has(photoId);
  try {
    if (liked) {
      await api(`/api/photos/${photoId}/reactions/?emoji=${encodeURIComponent(LIKE)}`, { method: "DELETE" });
      trip.liked.delete(photoId);
    } else {
      await api(`/api/photos/${photoId}/reactions/`, { method: "POST", body: { emoji: LIKE } });
      trip.liked.add(photoId);
    }
    const photo = await api(`/api/photos/${photoId}/`);
    if (trip.closed) return;
    trip.photos.set(photoId, photo);
    renderGrid(trip);
  } catch (err) {
    toast(err.status === 403 ? "Only trip members can like photos." : "Couldn't save your like.", "error");
  }
}

async function deletePhoto() {
  const trip = app.trip;
  const photoId = trip?.openPhotoId;
  if (photoId == null || !confirm("Delete this photo for everyone?")) return;
  try {
    await api(`/api/photos/${photoId}/`, { method: "DELETE" });
    if (trip.closed) return;
    $("photo-dialog").close();
    trip.photos.delete(photoId);
    const album = trip.albums.get(trip.openAlbumId);
    if (album) trip.albums.set(album.id, { ...album, photoCount: Math.max(0, (album.photoCount ?? 1) - 1) });
    renderAlbums(trip);
    renderGrid(trip);
  } catch (err) {
    toast(err.status === 403 ? "Only editors can delete photos." : "Couldn't delete the photo.", "error");
  }
}

async function onCaptionSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const photoId = trip?.openPhotoId;
  if (photoId == null) return;
  await busy(form, async () => {
    try {
      const photo = await api(`/api/photos/${photoId}/`, { method: "PATCH", body: { caption: form.caption.value.trim() } });
      trip.photos.set(photoId, photo);
      form.caption.blur();
      renderGrid(trip);
      toast("Caption saved.");
    } catch (err) {
      toast(err.status === 403 ? "Only editors can change captions." : "Couldn't save the caption.", "error");
    }
  });
}

async function onCommentSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const photoId = trip?.openPhotoId;
  const text = form.text.value.trim();
  if (photoId == null || !text) return;
  await busy(form, async () => {
    try {
      const comment = await api(`/api/photos/${photoId}/comments/`, { method: "POST", body: { text } });
      trip.comments.set(comment.id, comment);
      renderComments(trip);
      form.reset();
    } catch (err) {
      toast(err.describe?.("Couldn't post the comment.") ?? "Couldn't post the comment.", "error");
    }
  });
}

// --- albums and uploads -----------------------------------------------------------------------

async function onAlbumSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const error = $("album-error");
  const title = form.title.value.trim();
  if (!trip || !title) {
    formError(error, "Give the album a title.");
    return;
  }
  formError(error, "");
  await busy(form, async () => {
    try {
      const album = await api(`/api/trips/${trip.id}/albums/`, { method: "POST", body: { title } });
      trip.albums.set(album.id, album);
      form.reset();
      location.hash = `#trip/${trip.id}/photos/${album.id}`;
    } catch (err) {
      formError(error, err.status === 403 ? "Only editors can create albums." : err.describe?.("Couldn't create the album.") ?? "Couldn't create the album.");
    }
  });
}

async function onUploadSubmit(event) {
  event.preventDefault();
  const trip = app.trip;
  const form = event.currentTarget;
  const error = $("upload-error");
  const albumId = trip?.openAlbumId;
  const file = form.image.files[0];
  if (albumId == null || !file) {
    formError(error, "Choose a photo to upload.");
    return;
  }
  formError(error, "");
  const bar = $("upload-progress");
  const label = $("upload-percent");
  const setProgress = (share) => {
    const percent = Math.round(share * 100);
    bar.value = percent;
    label.textContent = `${percent}%`;
  };
  setProgress(0);
  show($("upload-status"), true);
  const data = new FormData();
  data.append("image", file);
  data.append("caption", form.caption.value.trim());
  await busy(form, async () => {
    try {
      const photo = await upload(`/api/albums/${albumId}/photos/`, data, setProgress);
      label.textContent = "Uploaded";
      if (!trip.closed && trip.openAlbumId === albumId) onPhotoEvent(trip, "photo_uploaded", photo);
      form.reset();
    } catch (err) {
      formError(
        error,
        err.status === 413
          ? "That photo is too large."
          : err.status === 400
            ? err.describe("That file isn't an image Trava can read (JPEG, PNG, WebP or GIF).")
            : err.status === 403
              ? "Only editors can upload photos."
              : err.message,
      );
      show($("upload-status"), false);
    }
  });
}

export function initPhotos() {
  $("album-form").addEventListener("submit", onAlbumSubmit);
  $("upload-form").addEventListener("submit", onUploadSubmit);
  $("caption-form").addEventListener("submit", onCaptionSubmit);
  $("comment-form").addEventListener("submit", onCommentSubmit);
  $("photo-like").addEventListener("click", toggleLike);
  $("photo-delete").addEventListener("click", deletePhoto);
  $("photo-close").addEventListener("click", () => $("photo-dialog").close());
  $("photo-dialog").addEventListener("close", () => {
    if (app.trip) app.trip.openPhotoId = null;
  });
}
