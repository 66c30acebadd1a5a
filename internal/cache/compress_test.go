package cache

import "testing"

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"gzip, deflate, br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"zstd, gzip", "zstd"},
		{"br;q=0.5, gzip;q=0.8", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0.1, gzip;q=0.5", "gzip"},
		{"br;q=0, *", "zstd"},
		{"GZIP;Q=1", "gzip"},
		{"gzip;q=abc", ""},
		{"gzip;q=2", ""},
		{"deflate", ""},
		{" gzip ; q=0.3 , zstd ; q=0.3 ", "zstd"},
	} {
		if got := Negotiate(tc.header); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	f.Add("gzip, br;q=0.5, *;q=0")
	f.Fuzz(func(t *testing.T, h string) {
		switch Negotiate(h) {
		case "", "gzip", "br", "zstd":
		default:
			t.Fatalf("unexpected coding for %q", h)
		}
	})
}
