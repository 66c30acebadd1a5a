package upload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/reqpath"
)

// The presign call: POST (JSON or form) or GET (query) to Base + "presign" with
//
//	key           a path on the route ("/uploads/alice/a.png"), mapped to an object key
//	              with the route's key mapping; or
//	filename      one safe segment: the key is the caller's key prefix + filename
//	content_type  the type the upload will declare (default application/octet-stream)
//	size          the exact size in bytes (at most max_size); required (1 or more) for a
//	              presigned PUT in mode bucket unless max_size is S3's 5 GiB or more
//	method        PUT (default) or POST (a browser form; mode bucket only)
//
// answers {method, url, fields, headers, expires, key}: the client sends the upload to
// url with the method, the form fields (POST, before the file field) or the headers
// (PUT) exactly as given, before expires.

// maxPresignBody bounds a presign call's body; maxContentType a declared content type.
const (
	maxPresignBody = 8 << 10
	maxContentType = 255
	maxSinglePut   = 5 << 30 // S3's largest single PUT: what an unsized PUT URL accepts
)

// presignRequest is a parsed presign call.
type presignRequest struct {
	Key         string `json:"key"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        *int64 `json:"size"`
	Method      string `json:"method"`
}

// PresignResponse is the presign call's answer.
type PresignResponse struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Fields  map[string]string `json:"fields,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Expires time.Time         `json:"expires"`
	Key     string            `json:"key"`
}

// errPresign is a refused presign call: a status and a public message.
type errPresign struct {
	status int
	msg    string
}

func (e *errPresign) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &errPresign{status: status, msg: fmt.Sprintf(format, args...)}
}

// parsePresign reads a presign call from its method, Content-Type, query and body.
// Unknown fields, repeated fields and anything malformed are refused (400).
func parsePresign(method, contentType, rawQuery string, body []byte) (presignRequest, error) {
	var pr presignRequest
	switch method {
	case http.MethodGet:
		if len(body) > 0 {
			return pr, refuse(http.StatusBadRequest, "a GET takes no body")
		}
		return parseValues(rawQuery)
	case http.MethodPost:
	default:
		return pr, refuse(http.StatusMethodNotAllowed, "use POST or GET")
	}
	if rawQuery != "" {
		return pr, refuse(http.StatusBadRequest, "a POST takes its fields in the body")
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return pr, refuse(http.StatusUnsupportedMediaType, "send application/json or a form")
	}
	switch mt {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pr); err != nil {
			return pr, refuse(http.StatusBadRequest, "malformed JSON")
		}
		if dec.More() {
			return pr, refuse(http.StatusBadRequest, "malformed JSON")
		}
		if pr.Size != nil && *pr.Size < 0 {
			return pr, refuse(http.StatusBadRequest, "size must be a number of bytes")
		}
		return pr, nil
	case "application/x-www-form-urlencoded":
		return parseValues(string(body))
	}
	return pr, refuse(http.StatusUnsupportedMediaType, "send application/json or a form")
}

// parseValues reads a presign call from a query or form.
func parseValues(raw string) (presignRequest, error) {
	var pr presignRequest
	v, err := url.ParseQuery(raw)
	if err != nil {
		return pr, refuse(http.StatusBadRequest, "malformed query")
	}
	for name, vals := range v {
		if len(vals) != 1 {
			return pr, refuse(http.StatusBadRequest, "%s given more than once", name)
		}
		switch val := vals[0]; name {
		case "key":
			pr.Key = val
		case "filename":
			pr.Filename = val
		case "content_type":
			pr.ContentType = val
		case "method":
			pr.Method = val
		case "size":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 || strings.HasPrefix(val, "+") {
				return pr, refuse(http.StatusBadRequest, "size must be a number of bytes")
			}
			pr.Size = &n
		default:
			return pr, refuse(http.StatusBadRequest, "unknown field %q", name)
		}
	}
	return pr, nil
}

// servePresign answers the presign call; it returns why the call failed, if it did.
func (e *Endpoint) servePresign(w http.ResponseWriter, r *http.Request, c *Call) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPresignBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request too large")
		return fmt.Errorf("presign: reading the body: %w", err)
	}
	res, err := e.presign(r, c, body)
	if err != nil {
		var pe *errPresign
		if errors.As(err, &pe) {
			writeError(w, pe.status, pe.msg)
		} else {
			writeError(w, statusOf(err), "cannot presign this upload")
		}
		return fmt.Errorf("presign: %w", err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// statusOf maps an origin's presign error: a refusal of what the client asked is 400,
// anything else (credentials, the SDK) is gatehouse's or the origin's problem.
func statusOf(err error) int {
	if errors.Is(err, origin.ErrBadRequest) {
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// presign validates a presign call and signs it.
func (e *Endpoint) presign(r *http.Request, c *Call, body []byte) (*PresignResponse, error) {
	pr, err := parsePresign(r.Method, r.Header.Get("Content-Type"), r.URL.RawQuery, body)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(pr.Method)
	switch {
	case method == "":
		method = http.MethodPut
	case method != http.MethodPut && method != http.MethodPost:
		return nil, refuse(http.StatusBadRequest, "method must be PUT or POST")
	}
	key, path, err := e.target(c, pr)
	if err != nil {
		return nil, err
	}
	ct, err := e.contentType(pr.ContentType)
	if err != nil {
		return nil, err
	}
	size := int64(-1)
	if pr.Size != nil {
		if size = *pr.Size; size > e.Limits.MaxSize {
			return nil, refuse(http.StatusRequestEntityTooLarge, "size exceeds the route's limit of %d bytes", e.Limits.MaxSize)
		}
	}
	cond := origin.PresignConditions{Expires: e.Expires, MaxSize: e.Limits.MaxSize, Size: size, ContentType: ct, CreateOnly: !e.Limits.Overwrite}
	if size >= 0 {
		cond.MaxSize = size
	}
	var p origin.Presigned
	switch {
	case e.Mode == config.PresignGateway:
		if method != http.MethodPut {
			return nil, refuse(http.StatusBadRequest, "this route's uploads go through gatehouse: use method PUT")
		}
		p = e.signGateway(r, c, key, path, cond)
	case e.Presigner == nil:
		return nil, refuse(http.StatusNotImplemented, "the route's origin cannot presign uploads")
	case method == http.MethodPut && size <= 0 && e.Limits.MaxSize < maxSinglePut:
		// A PUT URL cannot carry a length range: without the exact size signed (the
		// origin signs a Content-Length above 0 only) it would take anything up to S3's
		// 5 GiB, whatever max_size says.
		return nil, refuse(http.StatusBadRequest, "size (1 byte or more) is required for a presigned PUT on this route; a client that cannot tell the size, or sends an empty file, uses method POST")
	case method == http.MethodPost:
		if cond.CreateOnly {
			return nil, refuse(http.StatusBadRequest, "the route never replaces objects, which a POST cannot promise: use method PUT")
		}
		p, err = e.Presigner.PresignPost(r.Context(), key, cond)
	default:
		p, err = e.Presigner.PresignPut(r.Context(), key, cond)
	}
	if err != nil {
		return nil, err
	}
	res := &PresignResponse{Method: p.Method, URL: p.URL, Fields: p.Fields, Expires: p.Expires.UTC(), Key: key}
	if len(p.Header) > 0 {
		res.Headers = map[string]string{}
		for k := range p.Header {
			res.Headers[k] = p.Header.Get(k)
		}
	}
	return res, nil
}

// target returns the object key a presign call names and the route path that addresses
// it, refusing keys the caller may not write.
func (e *Endpoint) target(c *Call, pr presignRequest) (key, path string, err error) {
	switch {
	case (pr.Key == "") == (pr.Filename == ""):
		return "", "", refuse(http.StatusBadRequest, "give either key or filename")
	case pr.Key != "":
		if !strings.HasPrefix(pr.Key, "/") {
			return "", "", refuse(http.StatusBadRequest, "key is a path on the route, starting with '/'")
		}
		if path, err = reqpath.Clean(pr.Key); err != nil {
			return "", "", refuse(http.StatusBadRequest, "key is not a valid path")
		}
		if !e.owns(path) {
			return "", "", refuse(http.StatusBadRequest, "key is not a path on this route")
		}
		var ok bool
		if key, ok = e.Keys.Key(path); !ok || strings.HasSuffix(pr.Key, "/") {
			return "", "", refuse(http.StatusBadRequest, "key names a folder")
		}
	default:
		if err := safeSegment(pr.Filename); err != nil {
			return "", "", refuse(http.StatusBadRequest, "filename must be one path segment")
		}
		base := c.Prefix
		if base == "" {
			base = e.Keys.AddPrefix
		}
		key = base + pr.Filename
		var ok bool
		if path, ok = e.pathOf(key); !ok {
			return "", "", refuse(http.StatusBadRequest, "filename cannot be addressed on this route")
		}
	}
	if err := e.Allowed(c, key); err != nil {
		return "", "", refuse(ErrorStatus(err), "you may not upload to this key")
	}
	return key, path, nil
}

// owns reports whether a cleaned path is this route's.
func (e *Endpoint) owns(path string) bool {
	if !e.Pattern.Match(path) {
		return false
	}
	return e.Owns == nil || e.Owns(path)
}

// pathOf inverts the route's key mapping: the cleaned path whose key is key, when the
// route serves one.
func (e *Endpoint) pathOf(key string) (string, bool) {
	rel, ok := strings.CutPrefix(key, e.Keys.AddPrefix)
	if !ok {
		return "", false
	}
	path := strings.TrimSuffix(e.Keys.StripPrefix, "/") + "/" + rel
	clean, err := reqpath.Clean((&url.URL{Path: path}).EscapedPath())
	if err != nil || clean != path || !e.owns(path) {
		return "", false
	}
	if k, ok := e.Keys.Key(path); !ok || k != key {
		return "", false
	}
	return path, true
}

// contentType checks a declared content type against the route's and returns what to
// sign: the declared type exactly, application/octet-stream when none is declared on a
// route that restricts types, "" (not bound) when none is declared and any type goes.
func (e *Endpoint) contentType(ct string) (string, error) {
	if ct == "" && len(e.Limits.ContentTypes) == 0 {
		return "", nil
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	// mime.ParseMediaType accepts control characters inside a quoted parameter, which
	// no HTTP client can send in a header (the S3 SDK refuses to): a type is printable
	// ASCII only, so what is signed can be sent.
	if len(ct) > maxContentType || strings.ContainsFunc(ct, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return "", refuse(http.StatusBadRequest, "content_type is not a media type")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", refuse(http.StatusBadRequest, "content_type is not a media type")
	}
	if !e.Limits.TypeAllowed(mt) {
		return "", refuse(http.StatusUnsupportedMediaType, "content type %s is not accepted on this route", mt)
	}
	return ct, nil
}
