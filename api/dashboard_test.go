package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestDashboardIsServedFromEmbeddedAssets(t *testing.T) {
	e := newEnv(t, testConfig, nil)
	tests := []struct {
		name, path string
		status     int
		contains   string
	}{
		{"the page loads its own script", "/", http.StatusOK, `<script src="/assets/app.js"></script>`},
		{"the script is embedded", "/assets/app.js", http.StatusOK, `"#/slo/"`},
		{"the stylesheet is embedded", "/assets/style.css", http.StatusOK, "--freeze"},
		{"directories are not listed", "/assets/", http.StatusNotFound, `"error"`},
		{"a missing asset is 404", "/assets/nope.js", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.do(http.MethodGet, tt.path, nil, nil)
			if status != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Errorf("GET %s: %d, body lacks %q", tt.path, status, tt.contains)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("content policy %q", csp)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
}

func TestNoAssetReachesOutsideTheServer(t *testing.T) {
	for _, name := range []string{"assets/index.html", "assets/app.js", "assets/style.css"} {
		b, err := assetFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"https://", "http://", "//cdn", "innerHTML", "eval("} {
			text := strings.ReplaceAll(string(b), `"http://www.w3.org/2000/svg"`, "")
			if strings.Contains(text, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
