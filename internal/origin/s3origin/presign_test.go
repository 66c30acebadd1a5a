package s3origin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// curl runs the real curl binary with args and returns the HTTP status and body.
func curl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl binary")
	}
	out, err := exec.Command(path, append([]string{"-sS", "-o", "-", "-w", "\n%{http_code}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("curl %v: %v", args, err)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	code, _ := strconv.Atoi(s[i+1:])
	return code, s[:i]
}

// file writes data to a temporary file and returns its path.
func file(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// putArgs are curl's arguments for a presigned PUT of the file at path.
func putArgs(p origin.Presigned, path string, extra ...string) []string {
	args := []string{"-X", "PUT", "-T", path}
	for k := range p.Header {
		args = append(args, "-H", k+": "+p.Header.Get(k))
	}
	return append(append(args, extra...), p.URL)
}

// postArgs are curl's arguments for a presigned POST form with the file at path.
func postArgs(p origin.Presigned, path string, fields map[string]string) []string {
	var args []string
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		args = append(args, "--form-string", k+"="+fields[k])
	}
	return append(args, "-F", "file=@"+path, p.URL)
}

// TestPresignPutWithCurl: a presigned PUT stores exactly what it was signed for, with
// the real curl, and MinIO refuses a different Content-Type, size or key and an
// existing object when create-only.
func TestPresignPutWithCurl(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	data := body(1000)
	f := file(t, data)
	p, err := b.PresignPut(ctx, "up/a file.png", origin.PresignConditions{Expires: time.Minute, Size: 1000, ContentType: "image/png", CreateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != "PUT" || p.Header.Get("Content-Type") != "image/png" || p.Header.Get("If-None-Match") != "*" || p.Expires.Before(time.Now()) {
		t.Fatalf("presigned %+v", p)
	}
	if code, out := curl(t, putArgs(p, file(t, body(999)))...); code != 403 {
		t.Errorf("other size: %d %s", code, out)
	}
	if code, out := curl(t, putArgs(p, f, "-H", "Content-Type: image/jpeg")...); code != 403 {
		t.Errorf("other type: %d %s", code, out)
	}
	if _, _, ok := content(t, b, "up/a file.png"); ok {
		t.Fatal("a refused PUT stored an object")
	}
	if code, out := curl(t, putArgs(p, f)...); code != 200 {
		t.Fatalf("good PUT: %d %s", code, out)
	}
	got, info, ok := content(t, b, "up/a file.png")
	if !ok || !bytes.Equal(got, data) || info.ContentType != "image/png" {
		t.Fatalf("stored %v %d bytes %q", ok, len(got), info.ContentType)
	}
	if code, _ := curl(t, putArgs(p, f)...); code != 412 {
		t.Errorf("create-only PUT over an existing object: %d, want 412", code)
	}
	// The URL names one key: the same signature on another key is refused.
	other := origin.Presigned{URL: strings.Replace(p.URL, "a%20file.png", "b.png", 1), Header: p.Header}
	if code, _ := curl(t, putArgs(other, f)...); code != 403 {
		t.Errorf("other key: %d", code)
	}
}

// TestPresignPostWithCurl: a presigned POST form stores the file; MinIO enforces the
// policy's content-length-range and Content-Type.
func TestPresignPostWithCurl(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	p, err := b.PresignPost(ctx, "up/form.txt", origin.PresignConditions{Expires: time.Minute, MaxSize: 100, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != "POST" || p.Fields["key"] != "up/form.txt" || p.Fields["policy"] == "" || p.Fields["Content-Type"] != "text/plain" {
		t.Fatalf("presigned %+v", p)
	}
	if code, out := curl(t, postArgs(p, file(t, body(101)), p.Fields)...); code != 400 || !strings.Contains(out, "EntityTooLarge") {
		t.Errorf("over content-length-range: %d %s", code, out)
	}
	wrong := maps(p.Fields, "Content-Type", "text/html")
	if code, out := curl(t, postArgs(p, file(t, body(10)), wrong)...); code != 403 {
		t.Errorf("other type: %d %s", code, out)
	}
	otherKey := maps(p.Fields, "key", "up/other.txt")
	if code, out := curl(t, postArgs(p, file(t, body(10)), otherKey)...); code != 403 {
		t.Errorf("other key: %d %s", code, out)
	}
	if _, _, ok := content(t, b, "up/form.txt"); ok {
		t.Fatal("a refused POST stored an object")
	}
	data := body(100)
	if code, out := curl(t, postArgs(p, file(t, data), p.Fields)...); code/100 != 2 {
		t.Fatalf("good POST: %d %s", code, out)
	}
	if got, info, ok := content(t, b, "up/form.txt"); !ok || !bytes.Equal(got, data) || info.ContentType != "text/plain" {
		t.Fatalf("stored %v %d bytes %q", ok, len(got), info.ContentType)
	}
}

// TestPresignExpires: MinIO refuses a presigned PUT after its expiry. It waits on the
// real clock (about 2 s): the expiry is MinIO's to check, against its own clock.
func TestPresignExpires(t *testing.T) {
	b := newBucket(t)
	p, err := b.PresignPut(context.Background(), "late", origin.PresignConditions{Expires: time.Second, Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(p.Expires) + 1100*time.Millisecond)
	if code, out := curl(t, putArgs(p, file(t, body(10)))...); code != 403 {
		t.Fatalf("expired PUT: %d %s", code, out)
	}
	if _, _, ok := content(t, b, "late"); ok {
		t.Fatal("an expired PUT stored an object")
	}
}

// TestPresignRefuses: what no presigned upload can be is ErrBadRequest.
func TestPresignRefuses(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	for name, err := range map[string]error{
		"expires 0":             second(b.PresignPut(ctx, "k", origin.PresignConditions{})),
		"expires 8 days":        second(b.PresignPut(ctx, "k", origin.PresignConditions{Expires: 8 * 24 * time.Hour})),
		"create-only POST":      second(b.PresignPost(ctx, "k", origin.PresignConditions{Expires: time.Minute, CreateOnly: true})),
		"PUT with a key prefix": second(b.PresignPut(ctx, "k/", origin.PresignConditions{Expires: time.Minute, KeyPrefix: true})),
		"PUT with a redirect":   second(b.PresignPut(ctx, "k", origin.PresignConditions{Expires: time.Minute, Redirect: "http://a.test/"})),
		"empty type prefix":     second(b.PresignPost(ctx, "k/", origin.PresignConditions{Expires: time.Minute, KeyPrefix: true, ContentTypePrefix: true})),
		"relative redirect":     second(b.PresignPost(ctx, "k", origin.PresignConditions{Expires: time.Minute, Redirect: "/back"})),
		"negative size limit":   second(b.PresignPost(ctx, "k", origin.PresignConditions{Expires: time.Minute, MaxSize: -1})),
	} {
		if !errors.Is(err, origin.ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func second(_ origin.Presigned, err error) error { return err }

// maps returns a copy of m with k set to v.
func maps(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// TestPresignPostPrefix: a POST signed for a key prefix (the listing page's form)
// stores the file under the prefix with the name the browser sends in place of
// ${filename} and redirects (303) to the signed URL; MinIO refuses a key outside the
// prefix, a file over MaxSize, a type outside the type prefix and another redirect.
func TestPresignPostPrefix(t *testing.T) {
	b := newBucket(t)
	ctx := context.Background()
	const back = "http://gatehouse.test/files/up/dir/"
	p, err := b.PresignPost(ctx, "up/dir/", origin.PresignConditions{Expires: time.Minute, MaxSize: 100,
		KeyPrefix: true, ContentType: "text/", ContentTypePrefix: true, Redirect: back})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fields["key"] != "up/dir/${filename}" || p.Fields["success_action_redirect"] != back || p.Fields["Content-Type"] != "" {
		t.Fatalf("presigned %+v", p)
	}
	fields := maps(p.Fields, "Content-Type", "text/plain")
	post := func(fields map[string]string, data []byte, name string) (int, string) {
		return curl(t, append(postArgs(p, file(t, data), fields)[:len(fields)*2], "-F", "file=@"+file(t, data)+";filename="+name, p.URL)...)
	}
	if code, out := post(maps(fields, "key", "up/other/${filename}"), body(10), "a.txt"); code != 403 {
		t.Errorf("key outside the prefix: %d %s", code, out)
	}
	if code, out := post(maps(fields, "key", "up/${filename}"), body(10), "dir-escape.txt"); code != 403 {
		t.Errorf("key in the parent folder: %d %s", code, out)
	}
	if code, out := post(fields, body(101), "big.txt"); code != 400 || !strings.Contains(out, "EntityTooLarge") {
		t.Errorf("over content-length-range: %d %s", code, out)
	}
	if code, out := post(maps(fields, "Content-Type", "image/png"), body(10), "a.png"); code != 403 {
		t.Errorf("type outside the prefix: %d %s", code, out)
	}
	if code, out := post(maps(fields, "success_action_redirect", "http://evil.test/"), body(10), "a.txt"); code != 403 {
		t.Errorf("another redirect: %d %s", code, out)
	}
	for _, k := range []string{"up/other/a.txt", "up/dir-escape.txt", "up/dir/big.txt", "up/dir/a.png", "up/dir/a.txt"} {
		if _, _, ok := content(t, b, k); ok {
			t.Fatalf("a refused POST stored %q", k)
		}
	}
	data := body(100)
	code, out := curl(t, append(postArgs(p, file(t, data), fields)[:len(fields)*2],
		"-F", "file=@"+file(t, data)+";filename=notes é.txt", "-D", "-", p.URL)...)
	if code != 303 || !strings.Contains(out, "Location: "+back+"?") {
		t.Fatalf("good POST: %d %s", code, out)
	}
	if got, info, ok := content(t, b, "up/dir/notes é.txt"); !ok || !bytes.Equal(got, data) || info.ContentType != "text/plain" {
		t.Fatalf("stored %v %d bytes %q", ok, len(got), info.ContentType)
	}
}
