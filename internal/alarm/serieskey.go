package alarm

import "encoding/json"

// SeriesKey names the metric series of one set of dimension values ([name, value] pairs, in
// the rule's order) as a Stream key that SeriesDimensions decodes back; "" for no dimensions.
// The runner writes keys with it and the dashboard reads them.
func SeriesKey(dims [][2]string) string {
	if len(dims) == 0 {
		return ""
	}
	b, _ := json.Marshal(dims)
	return string(b)
}

// SeriesDimensions decodes a key made by SeriesKey into dimension name → value; a key it did
// not make gives no dimensions.
func SeriesDimensions(key string) map[string]string {
	out := map[string]string{}
	var dims [][2]string
	if key != "" && json.Unmarshal([]byte(key), &dims) == nil {
		for _, d := range dims {
			out[d[0]] = d[1]
		}
	}
	return out
}
