package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/gateway"
	"github.com/gatehouse-dev/gatehouse/internal/lambdaedge"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

type explainFlags struct {
	config   string
	clientIP string
	headers  []string
	event    string
	json     bool
	timeout  time.Duration
}

// Exit statuses of explain: allowed, denied (exit.go lists the others).
const (
	explainAllowed = ExitOK
	explainDenied  = ExitNo
)

func newExplain(std IO) *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain --config FILE [METHOD] URL|/PATH | --event FILE",
		Short: "Show what gatehouse would do with a request, without serving: route, each authenticator's verdict, decision, origin key",
		Long: `explain runs a request through the same code that serves it: path cleaning, route
matching, CORS, every authenticator of the route (address lists and key sets are loaded
first), the decision and the object key. It does not contact the origin.

The request comes from arguments (explain GET https://files.example.com/a.txt
--client-ip 192.0.2.7 -H 'Authorization: Bearer ...') or from a CloudFront Lambda@Edge
viewer-request event (--event event.json). A path alone (explain /docs/a.txt) is a
request to the configured public listener: http://HOST:PORT/docs/a.txt with the host
and port of server.listen (localhost when it listens on every address, as in :8080 or
0.0.0.0:8080), https when the listener has TLS; -H 'Host: NAME' names another host.

Exit status: 0 allowed, 2 denied, 1 when it fails (address lists or keys that do not
load do not fail it: the report says so), 64 on a usage error, 78 on a configuration
error.`,
		Args: cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := f.request(args)
			var ee *exitError
			if err != nil && !errors.As(err, &ee) {
				err = &usageError{cmd: cmd.CommandPath(), err: err}
			}
			if err != nil {
				return err
			}
			cfg, st, err := loadAndBuild(cmd.Context(), f.config)
			if err != nil {
				return err
			}
			defer st.Close()
			if r.URL.Host == "" {
				toListener(r, cfg)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			loadErr := st.LoadAuthenticators(ctx)
			client, scheme := st.Client(r)
			preq := &policy.Request{HTTP: r, Client: client, Scheme: scheme}
			plan := st.Resolve(ctx, r, preq)
			if plan.Outcome == gateway.Upload {
				// The endpoint decides each call itself, with the route's policy.
				plan.Decision = plan.Upload.Decide(ctx, preq)
			}
			rep := newReport(r, client, plan, loadErr)
			if f.json {
				enc := json.NewEncoder(std.Stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				enc.Encode(rep)
			} else {
				rep.print(std.Stdout)
			}
			if !rep.Allowed {
				return &exitError{code: explainDenied}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&f.config, "config", "c", "gatehouse.yaml", "configuration file")
	cmd.Flags().StringVar(&f.clientIP, "client-ip", "192.0.2.1", "address of the connecting peer")
	cmd.Flags().StringArrayVarP(&f.headers, "header", "H", nil, "request header 'Name: value' (repeatable)")
	cmd.Flags().StringVar(&f.event, "event", "", "a Lambda@Edge viewer-request event JSON file ('-' for stdin)")
	cmd.Flags().BoolVar(&f.json, "json", false, "machine-readable output")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 20*time.Second, "how long to wait for address lists and key sets to load")
	return cmd
}

// request builds the request to explain from the flags.
func (f *explainFlags) request(args []string) (*http.Request, error) {
	if f.event != "" {
		if len(args) > 0 || len(f.headers) > 0 {
			return nil, fmt.Errorf("--event takes no URL, METHOD or -H: the event carries them")
		}
		in := io.Reader(os.Stdin)
		if f.event != "-" {
			file, err := os.Open(f.event)
			if err != nil {
				return nil, &exitError{code: ExitFailure, msg: err.Error()}
			}
			defer file.Close()
			in = file
		}
		r, err := lambdaedge.Request(in)
		if err != nil {
			return nil, &exitError{code: ExitFailure, msg: err.Error()}
		}
		return r, nil
	}
	method, target := http.MethodGet, ""
	switch len(args) {
	case 1:
		target = args[0]
	case 2:
		method, target = strings.ToUpper(args[0]), args[1]
	default:
		return nil, fmt.Errorf("give a URL (and optionally a method before it), or --event FILE")
	}
	u, err := url.Parse(target)
	relative := err == nil && strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "//") && u.Scheme == "" && u.Host == ""
	if !relative && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("want an http(s) URL or a path starting with /, got %q", target)
	}
	ip, err := netip.ParseAddr(f.clientIP)
	if err != nil {
		return nil, fmt.Errorf("--client-ip: not an address: %q", f.clientIP)
	}
	r := &http.Request{Method: method, URL: u, Host: u.Host, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		RemoteAddr: net.JoinHostPort(ip.String(), "0"), RequestURI: u.RequestURI()}
	if u.Scheme == "https" {
		r.TLS = &tls.ConnectionState{}
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("-H %q: want 'Name: value'", h)
		}
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	// A body's size comes from -H Content-Length, as a server reads it; none: unknown
	// (a chunked body).
	r.ContentLength = -1
	if v := r.Header.Get("Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-H Content-Length: want a number of bytes, got %q", v)
		}
		r.ContentLength = n
	}
	return r, nil
}

// toListener completes a request given as a path alone (/a/b) into one to the
// configuration's public listener: its host and port (localhost when it listens on
// every address), https when it has TLS; a Host header given with -H names the host
// instead.
func toListener(r *http.Request, cfg *config.Config) {
	host, port, err := net.SplitHostPort(cfg.Server.Listen)
	if err != nil {
		host, port = "", "" // validation refuses such a listen address
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	r.URL.Scheme = "http"
	if cfg.Server.TLS != nil {
		r.URL.Scheme = "https"
		r.TLS = &tls.ConnectionState{}
	}
	r.URL.Host = host
	if h := r.Header.Get("Host"); h != "" {
		r.URL.Host, r.Host = h, h
		r.Header.Del("Host") // as a server reads it: the header becomes Request.Host
		return
	}
	if port != "" && !(r.URL.Scheme == "http" && port == "80") && !(r.URL.Scheme == "https" && port == "443") {
		r.URL.Host = net.JoinHostPort(host, port)
	}
	r.Host = r.URL.Host
}

// report is explain's output.
type report struct {
	Method    string       `json:"method"`
	URL       string       `json:"url"`
	Client    string       `json:"client_ip"`
	Path      string       `json:"path"`
	Route     *reportRoute `json:"route"`
	Preflight bool         `json:"preflight,omitempty"`
	Steps     []reportStep `json:"authenticators"`
	Allowed   bool         `json:"allowed"`
	Status    int          `json:"status,omitempty"`
	Reason    string       `json:"reason"`
	Key       string       `json:"key,omitempty"`
	// Endpoint names the login authenticator that answers the path itself, before any
	// route (its login, callback or logout path).
	Endpoint string `json:"login_endpoint,omitempty"`
	// UploadEndpoint names the route whose upload endpoint answers the path
	// (docs/uploads.md); the decision shown is the one the endpoint makes first.
	UploadEndpoint string `json:"upload_endpoint,omitempty"`
	// Listing is set when the path is a folder on a listing route (docs/listings.md).
	Listing *reportListing    `json:"listing,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Object is what the route's response headers policy does to the object response,
	// when the request would fetch one.
	Object *reportObject `json:"object_headers,omitempty"`
	// Upload is the route's upload limits for a PUT or DELETE, and what the write would
	// do when it passed every check.
	Upload    *reportUpload `json:"upload,omitempty"`
	LoadError string        `json:"load_error,omitempty"`
}

// reportUpload is a write's limits (the route's upload section) and plan.
type reportUpload struct {
	MaxSize      int64    `json:"max_size"`
	ContentTypes []string `json:"content_types,omitempty"`
	KeyPrefix    string   `json:"key_prefix,omitempty"`
	Overwrite    bool     `json:"overwrite"`
	// Set when the write would go ahead: "store" (PUT) or "delete".
	Operation string `json:"operation,omitempty"`
	// CallerPrefix is key_prefix expanded for this caller.
	CallerPrefix string `json:"caller_prefix,omitempty"`
	// Size is the declared body size, -1 when unknown (chunked: cut at max_size).
	Size        int64    `json:"size,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	CreateOnly  bool     `json:"create_only,omitempty"`
	Checksums   []string `json:"checksums,omitempty"`
}

// reportListing is a folder listing: the key prefix listed and the index document sent
// instead when it exists.
type reportListing struct {
	Prefix string `json:"prefix"`
	Index  string `json:"index_key,omitempty"`
}

type reportRoute struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Pattern string `json:"pattern"`
	Origin  string `json:"origin"`
	Public  bool   `json:"public"`
	Mode    string `json:"mode,omitempty"`
	// RateLimit describes the route's rate_limit (explain_ratelimit.go).
	RateLimit string `json:"rate_limit,omitempty"`
}

// reportObject is the route's response headers policy applied to an object response
// whose origin sent no headers of its own.
type reportObject struct {
	Added          map[string]string `json:"added"`
	Removed        []string          `json:"removed,omitempty"`
	OriginMetadata []string          `json:"origin_metadata,omitempty"`
	Private        bool              `json:"cache_control_private"`
}

type reportStep struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail"`
}

func newReport(r *http.Request, client netip.Addr, p *gateway.Plan, loadErr error) *report {
	rep := &report{Method: r.Method, URL: r.URL.String(), Client: client.String(), Path: p.Path,
		Preflight: p.Preflight, Key: p.Key, Steps: []reportStep{}}
	if !client.IsValid() {
		rep.Client = "unknown"
	}
	if loadErr != nil {
		rep.LoadError = loadErr.Error()
	}
	if rt := p.Route; rt != nil {
		rep.Route = &reportRoute{Index: rt.Index, Name: rt.Name, Pattern: rt.Pattern, Origin: rt.OriginName, Public: rt.Policy.Public}
		if !rt.Policy.Public {
			rep.Route.Mode = map[bool]string{true: "all", false: "any"}[rt.Policy.Mode == policy.All]
		}
		rep.Route.RateLimit = describeRateLimit(rt.RateLimit)
	}
	for _, s := range p.Decision.Steps {
		rep.Steps = append(rep.Steps, reportStep{s.Name, s.Outcome.String(), s.Text()})
	}
	rep.Allowed, rep.Reason = true, p.Decision.Reason
	switch p.Outcome {
	case gateway.Refuse:
		rep.Allowed, rep.Status = false, p.Status
		if p.Cause != nil {
			rep.Reason = p.Cause.Error()
		}
	case gateway.Answer:
		rep.Status = http.StatusNoContent
	case gateway.Endpoint:
		rep.Endpoint = p.Endpoint.Name()
		rep.Reason = "login authenticator " + rep.Endpoint
	case gateway.Upload:
		rep.UploadEndpoint = p.Route.Name
		if !p.Decision.Allow {
			rep.Allowed, rep.Status = false, p.Decision.Status
		}
	case gateway.List:
		rep.Listing, rep.Key = &reportListing{Prefix: p.Prefix, Index: p.Key}, ""
	}
	rep.Upload = newReportUpload(r, p)
	if p.Key != "" && p.Outcome != gateway.Write {
		added, removed, meta := p.Route.Headers.Describe(p.Path, p.Key)
		rep.Object = &reportObject{Added: map[string]string{}, Removed: removed, OriginMetadata: meta, Private: p.Route.Headers.Private}
		for k, v := range added {
			rep.Object.Added[k] = strings.Join(v, ", ")
		}
	}
	if len(p.Header) > 0 {
		rep.Headers = map[string]string{}
		for k, v := range p.Header {
			rep.Headers[k] = strings.Join(v, ", ")
		}
	}
	return rep
}

func (rep *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "request\t%s %s (client %s)\n", rep.Method, rep.URL, rep.Client)
	if rep.Path == "" {
		fmt.Fprintf(tw, "path\trefused\n")
	} else {
		fmt.Fprintf(tw, "path\t%s\n", rep.Path)
	}
	if rt := rep.Route; rt != nil {
		fmt.Fprintf(tw, "route\troutes[%d] %q (pattern %s, origin %s)\n", rt.Index, rt.Name, rt.Pattern, rt.Origin)
		if rt.RateLimit != "" {
			fmt.Fprintf(tw, "rate limit\t%s\n", rt.RateLimit)
		}
		switch {
		case rep.Preflight:
			fmt.Fprintf(tw, "auth\tCORS preflight: answered without authenticators\n")
		case rt.Public:
			fmt.Fprintf(tw, "auth\tpublic route\n")
		default:
			fmt.Fprintf(tw, "auth\tmode %s, %d authenticator(s) ran\n", rt.Mode, len(rep.Steps))
		}
	} else if rep.Endpoint != "" {
		fmt.Fprintf(tw, "route\tnone: a login endpoint, answered before any route\n")
	} else if rep.Path != "" {
		fmt.Fprintf(tw, "route\tnone matches\n")
	}
	for i, s := range rep.Steps {
		if s.Detail == s.Outcome {
			fmt.Fprintf(tw, "  %d. %s\t%s\n", i+1, s.Name, s.Outcome)
		} else {
			fmt.Fprintf(tw, "  %d. %s\t%s: %s\n", i+1, s.Name, s.Outcome, s.Detail)
		}
	}
	verdict := "DENY"
	if rep.Allowed {
		verdict = "ALLOW"
	}
	fmt.Fprintf(tw, "decision\t%s: %s\n", verdict, rep.Reason)
	switch {
	case rep.Endpoint != "":
		fmt.Fprintf(tw, "result\tlogin authenticator %s answers (sign in, callback or sign out)\n", rep.Endpoint)
	case rep.UploadEndpoint != "" && rep.Allowed:
		fmt.Fprintf(tw, "result\tthe upload endpoint of route %s answers (presign and Uppy calls)\n", rep.UploadEndpoint)
	case rep.Listing != nil && rep.Listing.Index != "":
		fmt.Fprintf(tw, "result\tsend key %q from origin %s when it exists, else list the keys under %q (read from the origin, never cached)\n", rep.Listing.Index, rep.Route.Origin, rep.Listing.Prefix)
	case rep.Listing != nil:
		fmt.Fprintf(tw, "result\tlist the keys under %q from origin %s (read from the origin, never cached)\n", rep.Listing.Prefix, rep.Route.Origin)
	case rep.Upload != nil && rep.Upload.Operation != "":
		rep.Upload.printWrite(tw, rep.Key, rep.Route.Origin)
	case rep.Key != "":
		fmt.Fprintf(tw, "result\tfetch key %q from origin %s\n", rep.Key, rep.Route.Origin)
	default:
		fmt.Fprintf(tw, "result\t%d %s, without contacting the origin\n", rep.Status, http.StatusText(rep.Status))
	}
	if u := rep.Upload; u != nil {
		u.printLimits(tw)
	}
	keys := make([]string, 0, len(rep.Headers))
	for k := range rep.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "header\t%s: %s\n", k, rep.Headers[k])
	}
	if o := rep.Object; o != nil {
		keys := make([]string, 0, len(o.Added))
		for k := range o.Added {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			note := ""
			if k == "Cache-Control" && o.Private {
				note = " (merged with the origin's: public and s-maxage dropped)"
			}
			fmt.Fprintf(tw, "object header\t%s: %s%s\n", k, o.Added[k], note)
		}
		if _, set := o.Added["Cache-Control"]; !set && !o.Private {
			fmt.Fprintf(tw, "object header\tCache-Control as the origin sends it (cache_control_private is off)\n")
		}
		if len(o.Removed) > 0 {
			fmt.Fprintf(tw, "object removes\t%s\n", strings.Join(o.Removed, ", "))
		}
		if len(o.OriginMetadata) > 0 {
			fmt.Fprintf(tw, "origin metadata\t%s passed on\n", strings.Join(o.OriginMetadata, ", "))
		}
	}
	if rep.LoadError != "" {
		fmt.Fprintf(tw, "warning\tsome sources did not load (their authenticators deny): %s\n", rep.LoadError)
	}
	tw.Flush()
}

// newReportUpload describes a PUT's or DELETE's limits and plan; nil for other methods
// and for routes that take no writes.
func newReportUpload(r *http.Request, p *gateway.Plan) *reportUpload {
	if (r.Method != http.MethodPut && r.Method != http.MethodDelete) || p.Route == nil || p.Route.Writes == nil {
		return nil
	}
	l := p.Route.Writes.Limits
	u := &reportUpload{MaxSize: int64(l.MaxSize), ContentTypes: l.ContentTypes, KeyPrefix: l.KeyPrefix, Overwrite: l.CanOverwrite()}
	w := p.Write
	if p.Outcome != gateway.Write || w == nil {
		return u
	}
	u.Operation, u.CallerPrefix = "delete", w.Prefix
	if o := w.Put; o != nil {
		u.Operation, u.Size, u.ContentType, u.CreateOnly = "store", o.Size, o.ContentType, o.IfNoneMatch == "*"
		if o.Checksums.MD5 != "" {
			u.Checksums = append(u.Checksums, "Content-MD5")
		}
		if o.Checksums.Algorithm != "" {
			u.Checksums = append(u.Checksums, "x-amz-checksum-"+strings.ToLower(string(o.Checksums.Algorithm)))
		}
	}
	return u
}

// printWrite prints what a write that passed every check does.
func (u *reportUpload) printWrite(w io.Writer, key, originName string) {
	if u.Operation == "delete" {
		fmt.Fprintf(w, "result\tdelete key %q from origin %s (204, also when there is none)\n", key, originName)
		return
	}
	size := fmt.Sprintf("%d bytes declared", u.Size)
	if u.Size < 0 {
		size = fmt.Sprintf("length unknown (chunked): cut at %d bytes", u.MaxSize)
	}
	fmt.Fprintf(w, "result\tstream the body to key %q in origin %s (%s, stored as %s)\n", key, originName, size, u.ContentType)
	if u.CreateOnly {
		fmt.Fprintf(w, "write\tcreate only (If-None-Match: *): 412 when the object exists\n")
	}
	if len(u.Checksums) > 0 {
		fmt.Fprintf(w, "write\tbody verified against %s (400 and nothing stored on a mismatch)\n", strings.Join(u.Checksums, ", "))
	}
}

// printLimits prints the route's upload section.
func (u *reportUpload) printLimits(w io.Writer) {
	types := "any"
	if len(u.ContentTypes) > 0 {
		types = strings.Join(u.ContentTypes, ", ")
	}
	fmt.Fprintf(w, "upload\tmax_size %d bytes, content types %s, overwrite %t\n", u.MaxSize, types, u.Overwrite)
	if u.KeyPrefix != "" {
		caller := ""
		if u.CallerPrefix != "" {
			caller = fmt.Sprintf(" (%q for this caller)", u.CallerPrefix)
		}
		fmt.Fprintf(w, "upload\tkeys under key_prefix %q%s\n", u.KeyPrefix, caller)
	}
}
