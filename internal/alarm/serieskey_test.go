package alarm

import "testing"

func TestSeriesKey(t *testing.T) {
	if SeriesKey(nil) != "" || len(SeriesDimensions("")) != 0 {
		t.Error("no dimensions should be the empty key")
	}
	dims := [][2]string{{"Principal", `arn:aws:iam::1:user/"x"`}, {"Region", "us-east-1"}}
	got := SeriesDimensions(SeriesKey(dims))
	if len(got) != 2 || got["Principal"] != dims[0][1] || got["Region"] != "us-east-1" {
		t.Errorf("round trip gave %v", got)
	}
	if len(SeriesDimensions("not a key")) != 0 {
		t.Error("a foreign key decoded to dimensions")
	}
}
