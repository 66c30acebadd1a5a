package cache

import "github.com/gatehouse-dev/gatehouse/internal/origin"

// bodyServed is how a Get that sends bytes start..end of version m is reported, given
// how its metadata was found. A Hit or RefreshHit stands only when every slice of the
// range is stored as the response starts; when one must come from the origin the
// response is a Miss (CloudFront's X-Cache says Miss for a response that needed the
// origin, whatever part of it was cached). Stale is kept: the version sent is the one the
// metadata names. A whole-object Get answered with a stored compressed variant (see
// Origin.encoded) needs no slices. A slice evicted between this check and its read is
// fetched without changing what was reported.
func (o *Origin) bodyServed(base string, m *meta, how origin.Served, start, end int64, opt origin.GetOptions) origin.Served {
	if how.Status != origin.CacheHit && how.Status != origin.CacheRefreshHit {
		return how
	}
	if opt.Range == nil && opt.Encoding != "" && o.policy.Compress.compressible(m.Info) &&
		o.store.has(encodedKey(base, opt.Encoding, m.Info.ETag)) {
		return how
	}
	size := o.store.SliceSize()
	for idx := start / size; start <= end && idx <= end/size; idx++ {
		if !o.store.has(o.store.sliceKey(base, m.Info.ETag, idx)) {
			return origin.Served{Status: origin.CacheMiss, Stale: how.Stale}
		}
	}
	return how
}
