package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/spanslo/spanslo/slo"
)

// reload re-reads slos.yaml on POST /-/reload. It needs the admin token as
// a bearer token: 401 without credentials, 403 with wrong ones (or when no
// token is configured, which disables it), 400 with the file:line problems
// of an invalid file (the old config keeps running), 200 once reloaded.
func (s *server) reload(w http.ResponseWriter, r *http.Request) {
	if s.opts.AdminToken == "" {
		writeError(w, http.StatusForbidden, "reload over HTTP is disabled: no admin token configured")
		return
	}
	token, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="spanslo admin"`)
		writeError(w, http.StatusUnauthorized, "admin token required (Authorization: Bearer ...)")
		return
	}
	if !sameToken(token, s.opts.AdminToken) {
		s.log.Warn("reload refused: wrong admin token", "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "wrong admin token")
		return
	}
	if s.opts.Reload == nil {
		writeError(w, http.StatusNotImplemented, "reload is not available")
		return
	}
	err := s.opts.Reload(r.Context())
	var problems slo.Problems
	switch {
	case err == nil:
		s.log.Info("config reloaded over HTTP", "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]any{"status": "reloaded", "slos": s.sloCount()})
	case errors.As(err, &problems):
		s.log.Warn("reload rejected: invalid config", "problems", len(problems))
		body := errorBody{Error: "invalid config; the previous config keeps running", Problems: []string{}}
		for _, p := range problems {
			body.Problems = append(body.Problems, p.Error())
		}
		writeJSON(w, http.StatusBadRequest, body)
	default:
		s.log.Error("reload failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reload failed; the previous config keeps running (see the server log)")
	}
}

func (s *server) sloCount() int {
	if tr := s.tracker(); tr != nil {
		return len(tr.SLOs())
	}
	return 0
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// sameToken compares in constant time; hashing first hides the length too.
func sameToken(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
