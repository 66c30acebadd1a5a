package ipsync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/ipranges"
)

// Snapshot is one reading of ip-ranges.json, filtered for a sync.
type Snapshot struct {
	// SyncToken and CreateDate are the file's, verbatim.
	SyncToken  string `json:"syncToken"`
	CreateDate string `json:"createDate"`
	// MD5 is the hex MD5 of the bytes read, as the AmazonIpSpaceChanged notification
	// announces it.
	MD5 string `json:"md5"`
	// Origin is the URL or file read.
	Origin string `json:"source"`
	// Prefixes are the selected ranges: deduplicated, aggregated when the source asks
	// for it, IPv4 before IPv6, sorted by address.
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
}

// Token is the syncToken as a number (0 when it is not one).
func (s *Snapshot) Token() int64 {
	n, _ := strconv.ParseInt(s.SyncToken, 10, 64)
	return n
}

// Families returns the IPv4 and IPv6 prefixes.
func (s *Snapshot) Families() (v4, v6 []netip.Prefix) { return ipranges.SplitFamilies(s.Prefixes) }

// Read fetches the source's URL with client (or reads its file), checks the document and
// selects the ranges. A list that selects no range at all is an error: a filter that
// suddenly matches nothing is far more likely a broken file or a typo than the truth,
// and syncing it would revoke every rule.
func Read(ctx context.Context, client *http.Client, src Source) (*Snapshot, error) {
	var data []byte
	var err error
	origin := src.URL
	if src.File != "" {
		origin = src.File
		data, err = readFile(src.File)
	} else {
		data, err = fetch(ctx, client, src.URL)
	}
	if err != nil {
		return nil, err
	}
	return Select(data, origin, src)
}

// Select parses an ip-ranges.json document (read from origin) and keeps the ranges src
// selects.
func Select(data []byte, origin string, src Source) (*Snapshot, error) {
	sum := md5.Sum(data)
	r, err := ipranges.ParseAWS(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	if _, err := strconv.ParseInt(r.SyncToken, 10, 64); err != nil {
		return nil, fmt.Errorf("%s: syncToken %q is not a number", origin, r.SyncToken)
	}
	ps := r.Filter(src.Services, src.Regions)
	ps = slices.DeleteFunc(ps, func(p netip.Prefix) bool {
		return (p.Addr().Is4() && !enabled(src.IPv4)) || (!p.Addr().Is4() && !enabled(src.IPv6))
	})
	if enabled(src.Aggregate) {
		ps = ipranges.Aggregate(ps)
	} else {
		slices.SortFunc(ps, ipranges.ComparePrefix)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s: no range matches services [%s] regions [%s]: refusing to sync an empty list; the file's services: %s",
			origin, strings.Join(src.Services, " "), strings.Join(src.Regions, " "), strings.Join(r.Services(), " "))
	}
	return &Snapshot{SyncToken: r.SyncToken, CreateDate: r.CreateDate, MD5: hex.EncodeToString(sum[:]), Origin: origin, Prefixes: ps}, nil
}

// enabled reads an optional switch that defaults to true.
func enabled(b *bool) bool { return b == nil || *b }

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, path)
}

func readAll(r io.Reader, origin string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, ipranges.MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", origin, err)
	}
	if len(data) > ipranges.MaxInputSize {
		return nil, fmt.Errorf("%s: %w", origin, ipranges.ErrTooLarge)
	}
	return data, nil
}

func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "gatehouse (ipranges sync)")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", u, resp.Status)
	}
	return readAll(resp.Body, u)
}

func unwrapURLError(err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}
