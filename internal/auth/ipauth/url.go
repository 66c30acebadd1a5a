package ipauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
)

// urlLoader fetches a published list. After a 200 it remembers the ETag and
// Last-Modified validators and sends them back as If-None-Match and If-Modified-Since,
// so an unchanged list costs a 304 and no parsing. Any other status, a transport error,
// an unparseable body or a list that yields no prefixes after filtering is a failure:
// a list that suddenly matches nothing is far more likely broken or mis-filtered than
// true, and treating it as a failure keeps the last good set and shows in readiness.
type urlLoader struct {
	url      string
	display  string // url without query or credentials, for logs
	format   string
	services []string
	regions  []string
	refresh  time.Duration
	client   *http.Client

	etag, lastModified string // from the last 200
	have               bool   // a 200 has been parsed
}

func newURLLoader(u *config.IPRangeURL, client *http.Client) (*urlLoader, error) {
	if u == nil {
		return nil, errors.New("empty entry")
	}
	parsed, err := url.Parse(u.URL)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("url: want an http or https URL, got %q", u.URL)
	}
	switch u.Format {
	case "aws", "google":
	case "plain":
		if len(u.Services)+len(u.Regions) > 0 {
			return nil, errors.New("services and regions filter aws and google lists only")
		}
	default:
		return nil, fmt.Errorf("format: must be one of aws, google, plain, got %q", u.Format)
	}
	display := *parsed
	display.User = nil
	if display.RawQuery != "" {
		display.RawQuery = "..."
	}
	display.Fragment = ""
	return &urlLoader{
		url: u.URL, display: display.String(), format: u.Format,
		services: slices.Clone(u.Services), regions: slices.Clone(u.Regions),
		refresh: orDefault(u.Refresh, config.DefaultIPURLRefresh), client: client,
	}, nil
}

func (l *urlLoader) interval() time.Duration { return l.refresh }

func (l *urlLoader) load(ctx context.Context, _ bool) ([]netip.Prefix, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("User-Agent", "gatehouse (ip allow-list refresh)")
	if l.have {
		if l.etag != "" {
			req.Header.Set("If-None-Match", l.etag)
		}
		if l.lastModified != "" {
			req.Header.Set("If-Modified-Since", l.lastModified)
		}
	}
	resp, err := l.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a token in its query: keep it out of logs
		}
		return nil, false, fmt.Errorf("GET: %w", err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if !l.have {
			return nil, false, errors.New("HTTP 304 Not Modified to an unconditional request")
		}
		return nil, false, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, false, fmt.Errorf("HTTP %s", resp.Status)
	}
	prefixes, err := l.parse(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("%s list: %w", l.format, err)
	}
	if len(prefixes) == 0 {
		return nil, false, l.emptyError()
	}
	l.etag, l.lastModified, l.have = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), true
	return prefixes, true, nil
}

// parse reads the body in the configured format; ipranges bounds its size.
func (l *urlLoader) parse(body io.Reader) ([]netip.Prefix, error) {
	switch l.format {
	case "aws":
		r, err := ipranges.ParseAWS(body)
		if err != nil {
			return nil, err
		}
		return r.Filter(l.services, l.regions), nil
	case "google":
		r, err := ipranges.ParseGoogle(body)
		if err != nil {
			return nil, err
		}
		return r.Filter(l.services, l.regions), nil
	}
	return ipranges.ParsePlain(body)
}

func (l *urlLoader) emptyError() error {
	if len(l.services)+len(l.regions) == 0 {
		return fmt.Errorf("%s list has no prefixes", l.format)
	}
	return fmt.Errorf("no prefixes in the %s list match services [%s] and regions [%s]",
		l.format, strings.Join(l.services, " "), strings.Join(l.regions, " "))
}
