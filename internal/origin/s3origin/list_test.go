package s3origin

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/origin"
	"github.com/gatehouse-dev/gatehouse/internal/origin/dirorigin"
)

// listKeys sort differently as keys and as folders ('-' and '.' come before '/', '0'
// after).
var listKeys = []string{
	"a-b", "a.txt", "a/b", "a/c/d", "a/c/e", "a/ca", "a0", "b/x/y/z", "b/y", "c", "é/1", "z/z/z/z",
}

// TestListMatchesFolder: a bucket and a folder holding the same keys list them the same,
// page after page, for every page size, prefix and delimiter; so a route's listing does
// not depend on its origin. The tokens differ (S3's are opaque), the entries do not.
func TestListMatchesFolder(t *testing.T) {
	b := newBucket(t)
	d, err := dirorigin.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for _, k := range listKeys {
		for _, o := range []origin.Putter{b, d} {
			if _, err := o.Put(ctx, k, strings.NewReader(k), origin.PutOptions{Size: int64(len(k))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := func(l origin.Lister, prefix string, opt origin.ListOptions) []string {
		var out []string
		for pages := 0; ; pages++ {
			page, err := l.List(ctx, prefix, opt)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(page.Objects) + len(page.Prefixes); n > opt.Max {
				t.Fatalf("page of %d entries, max %d", n, opt.Max)
			}
			for _, o := range page.Objects {
				out = append(out, o.Key)
			}
			out = append(out, page.Prefixes...)
			if page.Next == "" || pages > len(listKeys) {
				break
			}
			opt.Token = page.Next
		}
		slices.Sort(out)
		return out
	}
	for _, prefix := range []string{"", "a", "a/", "a/c", "b/x/", "é", "nothing"} {
		for _, delim := range []string{"", "/"} {
			for _, max := range []int{1, 2, 5, 1000} {
				for _, start := range []string{"", "a/", "a/c/d"} {
					opt := origin.ListOptions{Delimiter: delim, Max: max, StartAfter: start}
					s3keys, dirkeys := all(b, prefix, opt), all(d, prefix, opt)
					if !slices.Equal(s3keys, dirkeys) {
						t.Errorf("prefix %q %+v:\nbucket %q\nfolder %q", prefix, opt, s3keys, dirkeys)
					}
				}
			}
		}
	}
	page, err := b.List(ctx, "a/", origin.ListOptions{Max: 1})
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Size != 3 || page.Objects[0].ETag == "" || page.Objects[0].LastModified.IsZero() || page.Next == "" {
		t.Errorf("page %+v, %v", page, err)
	}
}
