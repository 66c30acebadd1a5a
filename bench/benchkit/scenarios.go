package main

// Scenario describes one of the scenarios for the report. The harness (bench/run)
// runs them; these are the titles, the order, and who gatehouse is compared with.
type Scenario struct {
	ID    string
	N     int // the number
	Title string
	// Peer is the contender gatehouse's figures are primarily judged against; every
	// other contender of the scenario gets a ratio too.
	Peer string
	// Bulk scenarios are measured in MiB/s and CPU seconds per GiB, not requests.
	Bulk bool
}

// scenarios are in the order (issue 5's seven, issue 6's Range scenario, issue
// 14's upload, then issue 16's fleet).
var scenarios = []Scenario{
	{ID: "ceiling", N: 1, Title: "Ceiling: nginx `return 200` with a 4 KiB body"},
	{ID: "public", N: 2, Title: "Public object", Peer: "nginx-proxy"},
	{ID: "signed", N: 3, Title: "Signed URL (CloudFront format) vs nginx secure_link", Peer: "nginx-securelink"},
	{ID: "basic", N: 4, Title: "HTTP Basic, same bcrypt htpasswd", Peer: "nginx-basic"},
	{ID: "jwt", N: 5, Title: "JWT bearer (RS256, same token and JWKS)", Peer: "oauth2-proxy"},
	{ID: "large", N: 6, Title: "Large object: one 1 GiB GET per request", Peer: "nginx-proxy", Bulk: true},
	{ID: "ip", N: 7, Title: "IP allowlist of 100k CIDRs", Peer: "nginx-geo"},
	{ID: "range", N: 8, Title: "Range requests: 1 MiB at random offsets in the 1 GiB object", Peer: "nginx-proxy"},
	{ID: "upload", N: 9, Title: "Upload: one 1 GiB PUT streamed to MinIO", Peer: "nginx-proxy", Bulk: true},
	{ID: "fleet", N: 10, Title: "Fleet checks on a cached signed 4 KiB hit, and invalidation across three replicas"},
}

// contenderLabels name contenders in tables.
var contenderLabels = map[string]string{
	"gatehouse":              "gatehouse",
	"gatehouse-cache":        "gatehouse with its cache",
	"gatehouse-chunked":      "gatehouse, chunked body",
	"gatehouse-fleet":        "gatehouse with its cache, `redis` and `rate_limit`",
	"nginx-return":           "nginx `return 200`",
	"nginx-proxy":            "nginx `proxy_pass`",
	"nginx-cache":            "nginx `proxy_cache`",
	"nginx-securelink":       "nginx `secure_link`",
	"nginx-securelink-cache": "nginx `secure_link` + `proxy_cache`",
	"nginx-slice":            "nginx `slice` + `proxy_cache`",
	"nginx-basic":            "nginx `auth_basic`",
	"oauth2-proxy":           "oauth2-proxy",
	"nginx-geo":              "nginx `geo`",
	"minio-direct":           "MinIO direct",
}

// variantOrder orders variants within a scenario; unknown ones sort last, by name.
var variantOrder = []string{"4k", "1k", "64k", "1m", "1-url", "1000-urls", "1g"}

// variantLabels describe variants in tables.
var variantLabels = map[string]string{
	"1k":        "1 KiB",
	"4k":        "4 KiB",
	"64k":       "64 KiB",
	"1m":        "1 MiB",
	"1g":        "1 GiB",
	"1-url":     "4 KiB, 1 URL",
	"1000-urls": "4 KiB, 1,000 URLs",
}

func scenarioByID(id string) (Scenario, bool) {
	for _, s := range scenarios {
		if s.ID == id {
			return s, true
		}
	}
	return Scenario{}, false
}

func label(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}
