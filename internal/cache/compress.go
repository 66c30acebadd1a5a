package cache

import (
	"bytes"
	"context"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
)

// Compression selects which objects a route compresses.
type Compression struct {
	MinSize int64
	// Types are media types ("text/html") or families ending in '/' ("text/").
	Types []string
}

// maxCompressSize bounds the objects compressed at the edge: a variant is built in
// memory, so larger objects are sent as they are.
const maxCompressSize = 16 << 20

// Encodings gatehouse can produce, in order of preference when the client rates them
// equally.
var encodings = []string{"br", "zstd", "gzip"}

// Negotiate picks the content coding for an Accept-Encoding header: the supported coding
// with the highest q-value (br, then zstd, then gzip on ties), "*" standing for codings
// not listed. "" means identity: no header, nothing acceptable, or only q=0.
func Negotiate(acceptEncoding string) string {
	if acceptEncoding == "" {
		return ""
	}
	q := map[string]float64{}
	star := -1.0
	for part := range strings.SplitSeq(acceptEncoding, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		v := 1.0
		if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(strings.ToLower(k)) == "q" {
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			v = f
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		if name == "*" {
			star = v
			continue
		}
		if _, dup := q[name]; !dup {
			q[name] = v
		}
	}
	best, bestQ := "", 0.0
	for _, e := range encodings {
		v, ok := q[e]
		if !ok {
			v = star
		}
		if v > bestQ {
			best, bestQ = e, v
		}
	}
	return best
}

// compressible reports whether an object of info should be compressed under c.
func (c *Compression) compressible(info origin.Info) bool {
	if c == nil || info.ContentEncoding != "" || info.Size < c.MinSize || info.Size > maxCompressSize {
		return false
	}
	mt, _, err := mime.ParseMediaType(info.ContentType)
	if err != nil {
		return false
	}
	for _, t := range c.Types {
		if mt == t || (strings.HasSuffix(t, "/") && strings.HasPrefix(mt, t)) {
			return true
		}
	}
	return false
}

// encoded turns a whole identity object into its enc variant, compressed once per
// object version and then served from the Store. It consumes obj.
func (o *Origin) encoded(ctx context.Context, base string, obj *origin.Object, enc string) (*origin.Object, error) {
	m := obj.Info
	k := encodedKey(base, enc, m.ETag)
	var data []byte
	if it, ok := o.store.get(k); ok {
		obj.Body.Close()
		data = it.data
	} else {
		// Each caller's function reads its own body, so a caller whose joined compression
		// ended with the leader's request (or an origin failure) can run its own.
		v, err, joined := o.shared(ctx, k, true, func(context.Context) (any, error) {
			defer obj.Body.Close()
			raw, err := io.ReadAll(obj.Body)
			if err != nil {
				return nil, err
			}
			z, err := compress(enc, raw)
			if err != nil {
				return nil, err
			}
			if _, cacheable := o.store.get(metaKey(base)); cacheable {
				o.store.set(k, &item{data: z})
			}
			return z, nil
		})
		if joined {
			obj.Body.Close()
		}
		if err != nil {
			return nil, err
		}
		data = v.([]byte)
	}
	return &origin.Object{Info: asVariant(m, enc, int64(len(data))), Body: io.NopCloser(bytes.NewReader(data))}, nil
}

// asVariant is info of an object version as its variant in coding enc of size bytes: a
// weak ETag, since the variant is another representation, not byte-identical to the
// stored object.
func asVariant(info origin.Info, enc string, size int64) origin.Info {
	info.Size, info.ContentEncoding = size, enc
	if info.ETag != "" && !strings.HasPrefix(info.ETag, "W/") {
		info.ETag = "W/" + info.ETag
	}
	return info
}

// variantInfo is what a whole-object GET in the request's coding would describe, for
// HEAD and 304 answers: the coding and the variant's weak ETag, and its size when the
// variant is already stored, else -1 (unknown until compressed: HEAD then sends no
// Content-Length, as RFC 9110 allows). Identity requests (enc "") get info unchanged.
func (o *Origin) variantInfo(base, enc string, info origin.Info) origin.Info {
	if enc == "" || !o.policy.Compress.compressible(info) {
		return info
	}
	size := int64(-1)
	if it, ok := o.store.get(encodedKey(base, enc, info.ETag)); ok {
		size = int64(len(it.data))
	}
	return asVariant(info, enc, size)
}

// encodedKey is the Store key of an object version's variant in coding enc.
func encodedKey(base, enc, etag string) string { return base + "z\x00" + enc + "\x00" + etag }

func compress(enc string, raw []byte) ([]byte, error) {
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch enc {
	case "gzip":
		w, err = gzip.NewWriterLevel(&b, gzip.BestCompression)
	case "br":
		w = brotli.NewWriterLevel(&b, 6)
	case "zstd":
		w, err = zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	default:
		return raw, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
