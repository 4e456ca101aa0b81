package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// assetFS holds the dashboard: plain HTML, CSS and JavaScript, no build step
// and nothing fetched from a CDN, so it works on an air-gapped wall screen.
//
//go:embed assets
var assetFS embed.FS

var staticFS = func() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return http.StripPrefix("/assets/", http.FileServerFS(sub))
}()

// contentPolicy allows only the dashboard's own files: no inline script, no
// third-party origin.
const contentPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	page, err := assetFS.ReadFile("assets/index.html")
	if err != nil {
		s.log.Error("dashboard page missing", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

func (s *server) assets(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") {
		writeError(w, http.StatusNotFound, "not found") // no directory listings
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	staticFS.ServeHTTP(w, r)
}
