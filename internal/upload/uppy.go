package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// The calls @uppy/aws-s3 makes on a Companion-compatible endpoint (its companionEndpoint
// option set to the route's Base without the trailing '/'), as Uppy 6's CompanionS3
// client sends them, each answered as Companion answers it:
//
//	GET    s3/params?filename=&type=                 presigned POST {method, url, fields, expires, key}
//	POST   s3/multipart  {filename, type[, size]}    create {key, uploadId}
//	GET    s3/multipart/ID/N?key=                    sign part N {url, expires[, headers]}
//	GET    s3/multipart/ID/batch?key=&partNumbers=   sign several {presignedUrls: {N: url}}
//	GET    s3/multipart/ID?key=                      list parts [{PartNumber, ETag, Size}]
//	POST   s3/multipart/ID/complete?key=  {parts}    complete {location, key}
//	DELETE s3/multipart/ID?key=                      abort {}
//
// The key of a new upload is the caller's key prefix (or, without one, the route's key
// mapping) plus the file's name, which must be one safe path segment; every call that
// names a key checks it again (upload.Allowed and the route's key mapping), so a caller
// never signs, lists, completes or aborts an upload outside their prefix. Parts go
// straight to the bucket on presigned URLs, which cannot bound their size, so max_size
// is checked on the parts themselves (ListParts) before the upload is completed; an
// upload over it is aborted (413). On a create-only route (overwrite: false) create
// answers 412 when the key holds an object, and a completion refused because one appeared
// meanwhile (412) aborts the upload too. Uppy's metadata is not stored with the object.

// Limits of the Uppy calls' inputs.
const (
	maxUppyBody     = 64 << 10 // create, and the JSON answers' peers
	maxCompleteBody = 2 << 20  // 10,000 parts of about 80 bytes each, with room
	maxUploadID     = 1024
	minPart         = 5 << 20 // S3's smallest part, except the last
	maxPart         = 5 << 30 // S3's largest part
	maxBatch        = 100     // part numbers one batch sign call may ask for
)

// errGatewayMode refuses Uppy's calls on a route whose uploads go through gatehouse:
// parts are presigned for the bucket, which that route's clients cannot reach.
var errGatewayMode = refuse(http.StatusBadRequest, "this route's uploads go through gatehouse (presign mode gateway): Uppy's calls need mode bucket")

// serveUppy answers the Companion-compatible calls under "s3/"; it returns why the call
// failed, if it did.
func (e *Endpoint) serveUppy(w http.ResponseWriter, r *http.Request, c *Call) error {
	res, err := e.uppy(r, c)
	if err != nil {
		var pe *errPresign
		if errors.As(err, &pe) {
			if u, _ := parseUppyPath(r.Method, c.Sub); pe.status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", u.allow)
			}
			writeError(w, pe.status, pe.msg)
		} else {
			writeError(w, uppyStatus(err), "the upload could not be done")
		}
		return fmt.Errorf("uppy %s: %w", c.Sub, err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// uppyCall is a parsed call: which operation, on which upload, and its inputs.
type uppyCall struct {
	op       string // params, create, sign, batch, list, complete, abort
	uploadID string
	part     int
	allow    string // the methods the path takes, for a 405's Allow
}

// parseUppyPath maps method and sub-path (after "s3/") to an operation, refusing what
// Companion does not serve: 404 for an unknown path, 405 for a wrong method.
func parseUppyPath(method, sub string) (uppyCall, error) {
	segs := strings.Split(sub, "/")
	var u uppyCall
	allow := http.MethodGet
	switch {
	case len(segs) == 2 && segs[1] == "params":
		u.op = "params"
	case len(segs) == 2 && segs[1] == "multipart":
		u.op, allow = "create", http.MethodPost
	case len(segs) == 3 && segs[1] == "multipart":
		u.op, allow = "list", "GET, DELETE"
		if method == http.MethodDelete {
			u.op = "abort"
		}
	case len(segs) == 4 && segs[1] == "multipart" && segs[3] == "complete":
		u.op, allow = "complete", http.MethodPost
	case len(segs) == 4 && segs[1] == "multipart" && segs[3] == "batch":
		u.op = "batch"
	case len(segs) == 4 && segs[1] == "multipart":
		u.op = "sign"
		n, err := parsePartNumber(segs[3])
		if err != nil {
			return u, err
		}
		u.part = n
	default:
		return u, refuse(http.StatusNotFound, "not found")
	}
	if segs[0] != "s3" {
		return u, refuse(http.StatusNotFound, "not found")
	}
	u.allow = allow
	if !slices.Contains(strings.Split(allow, ", "), method) {
		return u, refuse(http.StatusMethodNotAllowed, "method not allowed (allowed: %s)", allow)
	}
	if len(segs) >= 3 {
		if err := checkUploadID(segs[2]); err != nil {
			return u, err
		}
		u.uploadID = segs[2]
	}
	return u, nil
}

// parsePartNumber accepts a decimal part number from 1 to origin.MaxParts, digits only.
func parsePartNumber(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, refuse(http.StatusBadRequest, "part number must be from 1 to %d", origin.MaxParts)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > origin.MaxParts {
		return 0, refuse(http.StatusBadRequest, "part number must be from 1 to %d", origin.MaxParts)
	}
	return n, nil
}

// checkUploadID accepts what S3 and MinIO hand out as upload ids: up to 1024 characters
// of letters, digits and "-._~+=".
func checkUploadID(id string) error {
	if id == "" || len(id) > maxUploadID {
		return refuse(http.StatusBadRequest, "bad upload id")
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-._~+=", r):
		default:
			return refuse(http.StatusBadRequest, "bad upload id")
		}
	}
	return nil
}

// uppy runs one call and returns its JSON answer.
func (e *Endpoint) uppy(r *http.Request, c *Call) (any, error) {
	u, err := parseUppyPath(r.Method, c.Sub)
	if err != nil {
		return nil, err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "bad query")
	}
	switch u.op {
	case "params":
		return e.uppyParams(r, c, q)
	case "create":
		body, err := readBody(r, maxUppyBody)
		if err != nil {
			return nil, err
		}
		return e.uppyCreate(r, c, body)
	}
	if e.Multipart == nil {
		return nil, refuse(http.StatusNotImplemented, "the route's origin cannot take multipart uploads")
	}
	key, err := e.uppyKey(c, q)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	switch u.op {
	case "sign":
		return e.signPart(r, key, u.uploadID, u.part)
	case "batch":
		nums, err := parsePartNumbers(q.Get("partNumbers"))
		if err != nil {
			return nil, err
		}
		urls := make(map[string]string, len(nums))
		for _, n := range nums {
			s, err := e.signPart(r, key, u.uploadID, n)
			if err != nil {
				return nil, err
			}
			urls[strconv.Itoa(n)] = s.URL
		}
		return map[string]any{"presignedUrls": urls}, nil
	case "list":
		parts, err := e.allParts(r, key, u.uploadID)
		if err != nil {
			return nil, err
		}
		out := make([]uppyPart, len(parts))
		for i, p := range parts {
			out[i] = uppyPart{PartNumber: p.Number, ETag: p.ETag, Size: p.Size}
		}
		return out, nil
	case "abort":
		if err := e.Multipart.AbortMultipart(ctx, key, u.uploadID); err != nil {
			return nil, err
		}
		return struct{}{}, nil
	default: // complete
		body, err := readBody(r, maxCompleteBody)
		if err != nil {
			return nil, err
		}
		parts, err := parseCompleteBody(body)
		if err != nil {
			return nil, err
		}
		return e.uppyComplete(r, c, key, u.uploadID, parts)
	}
}

// readBody reads a call's body, at most limit bytes (413 beyond).
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "cannot read the request body")
	}
	if int64(len(body)) > limit {
		return nil, refuse(http.StatusRequestEntityTooLarge, "request body too large")
	}
	return body, nil
}

// uppyKey is the key query parameter of a call on an upload, checked as a key the
// caller may write on this route.
func (e *Endpoint) uppyKey(c *Call, q url.Values) (string, error) {
	keys := q["key"]
	if len(keys) != 1 || keys[0] == "" {
		return "", refuse(http.StatusBadRequest, "give the upload's key once")
	}
	key := keys[0]
	if err := e.Allowed(c, key); err != nil {
		return "", refuse(ErrorStatus(err), "you may not upload to this key")
	}
	if _, ok := e.pathOf(key); !ok {
		return "", refuse(http.StatusForbidden, "you may not upload to this key")
	}
	return key, nil
}

// uppyParams answers a single-file upload's parameters: a presigned POST (Uppy 6 sends
// the fields, then the file, as a form).
func (e *Endpoint) uppyParams(r *http.Request, c *Call, q url.Values) (any, error) {
	if len(q["filename"]) != 1 || len(q["type"]) > 1 {
		return nil, refuse(http.StatusBadRequest, "give filename once, type at most once")
	}
	if e.Mode != config.PresignBucket {
		return nil, errGatewayMode
	}
	if e.Presigner == nil {
		return nil, refuse(http.StatusNotImplemented, "the route's origin cannot presign uploads")
	}
	if !e.Limits.Overwrite {
		return nil, refuse(http.StatusBadRequest, "the route never replaces objects, which a POST cannot promise: use multipart uploads")
	}
	key, _, err := e.target(c, presignRequest{Filename: q.Get("filename")})
	if err != nil {
		return nil, err
	}
	ct, err := e.contentType(q.Get("type"))
	if err != nil {
		return nil, err
	}
	p, err := e.Presigner.PresignPost(r.Context(), key, origin.PresignConditions{
		Expires: e.Expires, MaxSize: e.Limits.MaxSize, Size: -1, ContentType: ct,
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"method": p.Method, "url": p.URL, "fields": p.Fields, "expires": int(e.Expires.Seconds()), "key": key}, nil
}

// createBody is the create call's body. Uppy sends filename, type and metadata (not
// stored); size is optional (Uppy sends none) and, when given, checked against max_size.
// Fields Uppy may add later are ignored.
type createBody struct {
	Filename string          `json:"filename"`
	Type     string          `json:"type"`
	Size     *int64          `json:"size"`
	Metadata json.RawMessage `json:"metadata"`
}

// parseCreateBody reads a create call's JSON body.
func parseCreateBody(body []byte) (createBody, error) {
	var b createBody
	if err := json.Unmarshal(body, &b); err != nil {
		return b, refuse(http.StatusBadRequest, "the body must be a JSON object with filename and type")
	}
	if b.Filename == "" {
		return b, refuse(http.StatusBadRequest, "filename is required")
	}
	if b.Size != nil && *b.Size < 0 {
		return b, refuse(http.StatusBadRequest, "size must not be negative")
	}
	return b, nil
}

// uppyCreate starts a multipart upload of the caller's file.
func (e *Endpoint) uppyCreate(r *http.Request, c *Call, body []byte) (any, error) {
	// Refused before an upload is started that no part could be signed for.
	if e.Mode != config.PresignBucket {
		return nil, errGatewayMode
	}
	if _, ok := e.Multipart.(origin.PartPresigner); !ok {
		return nil, refuse(http.StatusNotImplemented, "the route's origin cannot presign part uploads")
	}
	b, err := parseCreateBody(body)
	if err != nil {
		return nil, err
	}
	if b.Size != nil && *b.Size > e.Limits.MaxSize {
		return nil, refuse(http.StatusRequestEntityTooLarge, "size exceeds the route's limit of %d bytes", e.Limits.MaxSize)
	}
	key, _, err := e.target(c, presignRequest{Filename: b.Filename})
	if err != nil {
		return nil, err
	}
	ct, err := e.contentType(b.Type)
	if err != nil {
		return nil, err
	}
	opt := origin.PutOptions{Size: -1, ContentType: ct}
	if !e.Limits.Overwrite {
		opt.IfNoneMatch = "*"
		if err := e.refuseExisting(r, key); err != nil {
			return nil, err
		}
	}
	id, err := e.Multipart.CreateMultipart(r.Context(), key, opt)
	if err != nil {
		return nil, err
	}
	return map[string]string{"key": key, "uploadId": id}, nil
}

// refuseExisting answers 412 when an object is at key already, so a create-only
// route's upload fails before any part is sent (CompleteMultipart checks again: an
// object made meanwhile still gets 412 there). An origin that cannot tell passes; an
// error asking fails the call.
func (e *Endpoint) refuseExisting(r *http.Request, key string) error {
	h, ok := e.Multipart.(interface {
		Head(context.Context, string, origin.HeadOptions) (origin.Info, error)
	})
	if !ok {
		return nil
	}
	_, err := h.Head(r.Context(), key, origin.HeadOptions{})
	switch {
	case err == nil:
		return refuse(http.StatusPreconditionFailed, "an object exists at this key, and the route never replaces objects")
	case errors.Is(err, origin.ErrNotFound):
		return nil
	}
	return err
}

// signedPart is the sign call's answer.
type signedPart struct {
	URL     string            `json:"url"`
	Expires int               `json:"expires"`
	Headers map[string]string `json:"headers,omitempty"`
}

// signPart presigns the PUT of one part, straight to the bucket.
func (e *Endpoint) signPart(r *http.Request, key, id string, n int) (signedPart, error) {
	if e.Mode != config.PresignBucket {
		return signedPart{}, errGatewayMode
	}
	pp, ok := e.Multipart.(origin.PartPresigner)
	if !ok {
		return signedPart{}, refuse(http.StatusNotImplemented, "the route's origin cannot presign part uploads")
	}
	u, h, err := pp.PresignPart(r.Context(), key, id, n, e.Expires)
	if err != nil {
		return signedPart{}, err
	}
	s := signedPart{URL: u, Expires: int(e.Expires.Seconds())}
	if len(h) > 0 {
		s.Headers = map[string]string{}
		for k := range h {
			s.Headers[k] = h.Get(k)
		}
	}
	return s, nil
}

// parsePartNumbers reads a batch sign call's comma-separated part numbers: 1 to
// maxBatch of them, each valid, none repeated.
func parsePartNumbers(s string) ([]int, error) {
	fields := strings.Split(s, ",")
	if s == "" || len(fields) > maxBatch {
		return nil, refuse(http.StatusBadRequest, "partNumbers must list 1 to %d part numbers", maxBatch)
	}
	seen := map[int]bool{}
	nums := make([]int, 0, len(fields))
	for _, f := range fields {
		n, err := parsePartNumber(f)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, refuse(http.StatusBadRequest, "part number %d repeated", n)
		}
		seen[n] = true
		nums = append(nums, n)
	}
	return nums, nil
}

// uppyPart is a part as Companion lists it, and as Uppy sends it back to complete.
type uppyPart struct {
	PartNumber int    `json:"PartNumber"`
	ETag       string `json:"ETag"`
	Size       int64  `json:"Size,omitempty"`
}

// allParts lists every part of an upload (at most origin.MaxParts).
func (e *Endpoint) allParts(r *http.Request, key, id string) ([]origin.Part, error) {
	var all []origin.Part
	after := 0
	for {
		parts, next, err := e.Multipart.ListParts(r.Context(), key, id, after, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, parts...)
		if next <= after || len(all) > origin.MaxParts {
			return all, nil
		}
		after = next
	}
}

// parseCompleteBody reads the complete call's {parts: [{PartNumber, ETag}]}: 1 to
// origin.MaxParts parts, numbers valid and strictly ascending, each with an ETag.
func parseCompleteBody(body []byte) ([]origin.Part, error) {
	var b struct {
		Parts []struct {
			PartNumber json.Number `json:"PartNumber"`
			ETag       string      `json:"ETag"`
		} `json:"parts"`
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(&b); err != nil {
		return nil, refuse(http.StatusBadRequest, "the body must be a JSON object with parts")
	}
	if len(b.Parts) == 0 || len(b.Parts) > origin.MaxParts {
		return nil, refuse(http.StatusBadRequest, "parts must list 1 to %d parts", origin.MaxParts)
	}
	parts := make([]origin.Part, len(b.Parts))
	for i, p := range b.Parts {
		n, err := parsePartNumber(p.PartNumber.String())
		if err != nil {
			return nil, err
		}
		if i > 0 && n <= parts[i-1].Number {
			return nil, refuse(http.StatusBadRequest, "parts must be in ascending order, each once")
		}
		if p.ETag == "" || len(p.ETag) > 256 || strings.ContainsFunc(p.ETag, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return nil, refuse(http.StatusBadRequest, "part %d has no valid ETag", n)
		}
		parts[i] = origin.Part{Number: n, ETag: p.ETag}
	}
	return parts, nil
}

// uppyComplete checks the parts as the bucket holds them (each named part uploaded with
// that ETag, all but the last at least 5 MiB, their sum within max_size), then makes the
// object. An upload over max_size is aborted (413): it could never be completed. A part
// uploaded again after the check has another ETag (the MD5 of its bytes), so S3 refuses
// the completion, which names the ETags checked: the sizes checked are those completed.
func (e *Endpoint) uppyComplete(r *http.Request, c *Call, key, id string, parts []origin.Part) (any, error) {
	held, err := e.allParts(r, key, id)
	if err != nil {
		return nil, err
	}
	byNum := make(map[int]origin.Part, len(held))
	for _, p := range held {
		byNum[p.Number] = p
	}
	var total int64
	for i, p := range parts {
		h, ok := byNum[p.Number]
		if !ok || strings.Trim(h.ETag, `"`) != strings.Trim(p.ETag, `"`) {
			return nil, refuse(http.StatusBadRequest, "part %d was not uploaded with that ETag", p.Number)
		}
		if h.Size > maxPart || (h.Size < minPart && i < len(parts)-1) {
			return nil, refuse(http.StatusBadRequest, "part %d is %d bytes: every part but the last must be 5 MiB to 5 GiB", p.Number, h.Size)
		}
		parts[i].Size = h.Size
		total += h.Size
	}
	if total > e.Limits.MaxSize {
		if err := e.Multipart.AbortMultipart(r.Context(), key, id); err != nil {
			return nil, err
		}
		return nil, refuse(http.StatusRequestEntityTooLarge, "the upload is %d bytes, over the route's limit of %d: it was aborted", total, e.Limits.MaxSize)
	}
	ifNoneMatch := ""
	if !e.Limits.Overwrite {
		ifNoneMatch = "*"
	}
	info, err := e.Multipart.CompleteMultipart(r.Context(), key, id, parts, ifNoneMatch)
	if errors.Is(err, origin.ErrExists) || errors.Is(err, origin.ErrPreconditionFailed) {
		// Create-only and the key is taken: the upload can never be completed.
		if aerr := e.Multipart.AbortMultipart(r.Context(), key, id); aerr != nil {
			return nil, fmt.Errorf("%w (aborting the upload: %v)", err, aerr)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	res := map[string]any{"key": key, "etag": info.ETag}
	if path, ok := e.pathOf(key); ok && r.Host != "" && c.Scheme != "" {
		res["location"] = c.Scheme + "://" + r.Host + (&url.URL{Path: path}).EscapedPath()
	}
	return res, nil
}

// uppyStatus maps an origin's error on an Uppy call to the status the client sees.
func uppyStatus(err error) int {
	switch {
	case errors.Is(err, origin.ErrNoSuchUpload):
		return http.StatusNotFound
	case errors.Is(err, origin.ErrExists), errors.Is(err, origin.ErrPreconditionFailed):
		return http.StatusPreconditionFailed
	case errors.Is(err, origin.ErrBadRequest), errors.Is(err, origin.ErrKeyTooLong):
		return http.StatusBadRequest
	case errors.Is(err, origin.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, origin.ErrTimeout):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}
