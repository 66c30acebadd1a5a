package cfsign

import (
	"fmt"
	"testing"
)

// A gallery page: 100 images under one prefix, authorised by one signed cookie set.
func pageOf100(b *testing.B) []VerifyInput {
	loadKeys(b)
	cookies, err := SignCookies(testKeyA, rsaA, SignOptions{Resource: "https://media.example.com/gallery/*", Expires: testExpiry})
	if err != nil {
		b.Fatal(err)
	}
	page := make([]VerifyInput, 100)
	for i := range page {
		page[i] = cookieInput(fmt.Sprintf("https://media.example.com/gallery/2026/img-%03d.jpg", i), cookies)
	}
	return page
}

// benchPage verifies one page of 100 image requests per op, starting each page with an
// empty cache (a first visit), and reports the RSA verifications each page cost.
func benchPage(b *testing.B, cacheSize int) {
	page := pageOf100(b)
	v := newTestVerifier(b, cacheSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if v.cache != nil {
			v.cache.clear()
		}
		for _, in := range page {
			if _, err := v.Verify(in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(v.verifies.Load())/float64(b.N), "rsa-verifies/page")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/request")
}

// BenchmarkVerifyCached: RSA-2048, SHA-1, cache on. One RSA verification per page.
func BenchmarkVerifyCached(b *testing.B) { benchPage(b, 10000) }

// BenchmarkVerifyUncached: the same page with the cache off: 100 RSA verifications.
func BenchmarkVerifyUncached(b *testing.B) { benchPage(b, 0) }
