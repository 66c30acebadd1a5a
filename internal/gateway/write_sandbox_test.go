package gateway_test

import (
	"net/http"
	"testing"
)

// TestRegression_UploadedSVGRunsScript: content_types [image/*] admitted image/svg+xml,
// and the object was then served inline from gatehouse's origin with no CSP, so its
// script ran there. Now image/* refuses it (415, nothing stored); on a route that
// admits it (any type here), it is stored and served with Content-Security-Policy:
// sandbox.
func TestRegression_UploadedSVGRunsScript(t *testing.T) {
	g := writeGateway(t)
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`
	resp, _ := g.put(t, "/small/x.svg", []byte(svg), asAlice, "Content-Type: image/svg+xml")
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("SVG through image/*: %d, want 415", resp.StatusCode)
	}
	if _, ok := g.stored(t, "small/x.svg"); ok {
		t.Error("a refused SVG was stored")
	}
	if resp, _ := g.put(t, "/small/x.png", []byte("png"), asAlice, "Content-Type: image/png"); resp.StatusCode != http.StatusCreated {
		t.Errorf("PNG through image/*: %d", resp.StatusCode)
	}
	if resp, _ := g.put(t, "/s3/x.svg", []byte(svg), asAlice, "Content-Type: image/svg+xml"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("SVG on a route of any type: %d", resp.StatusCode)
	}
	for _, m := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(m, g.URL+"/s3/x.svg", nil)
		req.Header.Set("Authorization", "Basic YWxpY2U6d29uZGVybGFuZA==")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Content-Security-Policy") != "sandbox" {
			t.Errorf("%s: %d, Content-Type %q, Content-Security-Policy %q; want 200, image/svg+xml, sandbox",
				m, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"))
		}
	}
}
