package gateway_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/crypto/bcrypt"
)

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)" enctype="multipart/form-data">`)
	formHidden = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// listingForm reads the upload form of a listing page: its action and hidden fields,
// unescaped; ok false when the page has none.
func listingForm(page string) (action string, fields map[string]string, ok bool) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	fields = map[string]string{}
	for _, f := range formHidden.FindAllStringSubmatch(page, -1) {
		fields[html.UnescapeString(f[1])] = html.UnescapeString(f[2])
	}
	return html.UnescapeString(m[1]), fields, true
}

// TestListingUploadForm: a listing route whose uploads are presigned by the bucket
// shows a form in a folder the caller may write (under key_prefix expanded for them),
// signed for that folder's keys and coming back to it; posted with curl, the file lands
// in the folder and the bucket redirects to the listing. No form elsewhere: another
// user's folder, the route's top folder above the caller's prefix, JSON, a route with
// overwrite: false or more than one content type.
func TestListingUploadForm(t *testing.T) {
	needMinIO(t)
	bucket := fmt.Sprintf("presign-%d", presignSeq.Add(1))
	if _, err := minio.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"f/alice/seed.txt", "f/bob/seed.txt", "k/alice/seed.txt", "m/alice/seed.txt"} {
		putObject(t, bucket, k, "seed", nil)
	}
	bob, err := bcrypt.GenerateFromPassword([]byte("builder"), 4)
	if err != nil {
		t.Fatal(err)
	}
	auth := fmt.Sprintf(`{methods: [{basic: {users: {alice: %q, bob: %q}}}]}`, aliceFastHash, bob)
	g := startGateway(t, fmt.Sprintf(`
origins:
  up:
    s3: {bucket: %s, endpoint: %q, path_style: true, access_key_id: "${MINIO_KEY}", secret_access_key: "${MINIO_SECRET}"}
routes:
  - {name: files, path: /files/*, origin: up, strip_prefix: /files, add_prefix: f/, listing: true, auth: %[3]s,
     upload: {max_size: 1KiB, key_prefix: "f/{user}/", presign: {expires: 5m}}}
  - {name: keep, path: /keep/*, origin: up, strip_prefix: /keep, add_prefix: k/, listing: true, auth: %[3]s,
     upload: {max_size: 1KiB, overwrite: false, presign: {}}}
  - {name: mixed, path: /mixed/*, origin: up, strip_prefix: /mixed, add_prefix: m/, listing: true, auth: %[3]s,
     upload: {max_size: 1KiB, content_types: [text/plain, image/png], presign: {}}}
`, bucket, minio.Endpoint, auth), map[string]string{"MINIO_KEY": minio.AccessKey, "MINIO_SECRET": minio.SecretKey})

	resp, page := g.do(t, "GET", "/files/alice/", presignAlice)
	wantStatus(t, resp, 200)
	action, fields, ok := listingForm(page)
	if !ok {
		t.Fatalf("no form in alice's folder:\n%s", page)
	}
	if !strings.HasPrefix(action, minio.Endpoint) || fields["key"] != "f/alice/${filename}" ||
		fields["success_action_redirect"] != g.URL+"/files/alice/" || fields["policy"] == "" {
		t.Fatalf("form %s %v", action, fields)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+minio.Endpoint) {
		t.Errorf("CSP %q does not let the form post to the bucket", csp)
	}
	if i, j := strings.Index(page, `name="success_action_redirect"`), strings.Index(page, `type="file" name="file"`); i < 0 || j < i {
		t.Error("the file input is not after the fields")
	}

	for _, c := range []struct{ path, who string }{
		{"/files/bob/", presignAlice},                              // bob's folder
		{"/files/", presignAlice},                                  // above alice's prefix
		{"/keep/alice/", presignAlice},                             // overwrite: false
		{"/mixed/alice/", presignAlice},                            // two content types
		{"/files/alice/", "Authorization: Basic Ym9iOmJ1aWxkZXI="}, // bob in alice's folder
	} {
		resp, page := g.do(t, "GET", c.path, c.who)
		wantStatus(t, resp, 200)
		if _, _, ok := listingForm(page); ok || strings.Contains(page, "<form") {
			t.Errorf("%s: a form where none belongs", c.path)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "form-action 'self'") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
	}
	if _, body := g.do(t, "GET", "/files/alice/", presignAlice, "Accept: application/json"); strings.Contains(body, "policy") {
		t.Errorf("the JSON listing carries the form: %s", body)
	}

	var args []string
	for k, v := range fields {
		args = append(args, "--form-string", k+"="+v)
	}
	args = append(args, "-F", "file=@"+tempFile(t, "hello from the form")+";filename=hello world.txt", "-D", "-", action)
	code, out := curlRun(t, args...)
	if code != 303 || !strings.Contains(out, "Location: "+g.URL+"/files/alice/?") {
		t.Fatalf("form POST: %d %s", code, out)
	}
	resp, body := g.do(t, "GET", "/files/alice/hello%20world.txt", presignAlice)
	wantStatus(t, resp, 200)
	if body != "hello from the form" {
		t.Fatalf("uploaded object reads %q", body)
	}
	// The bucket's redirect adds bucket, key and etag to the query: the listing ignores them.
	resp, page = g.do(t, "GET", "/files/alice/?bucket="+bucket+"&key=f%2Falice%2Fhello+world.txt&etag=%22x%22", presignAlice)
	wantStatus(t, resp, 200)
	if !strings.Contains(page, "hello world.txt") {
		t.Error("the listing after the redirect does not show the upload")
	}
}
