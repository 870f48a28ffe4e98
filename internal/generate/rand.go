package generate

import (
	"math/bits"
	"strconv"
	"time"
)

// rng is wyrand: tiny, fast and good enough for synthetic data. math/rand/v2
// would do, but an inlinable value type keeps the per-record cost down and the
// sequence fixed across Go releases, which byte-identical output needs.
type rng struct{ s uint64 }

func newRNG(seed ...uint64) rng {
	var s uint64 = 0x9e3779b97f4a7c15
	for _, x := range seed {
		s = mix64(s ^ x)
	}
	return rng{s}
}

// mix64 is splitmix64's finalizer: seeds derived from (seed, file index) are
// independent streams.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// skewed returns an index in [0, n) where low indexes are much more likely:
// a few principals and resources do most of the work, as in real accounts.
func (r *rng) skewed(n int) int {
	u := r.float()
	return int(u * u * float64(n))
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

const (
	hexDigits   = "0123456789abcdef"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// appendChars appends n characters of set, drawing 8 bytes of randomness at a time.
func (r *rng) appendChars(b []byte, set string, n int) []byte {
	var x uint64
	for i := 0; i < n; i++ {
		if i%8 == 0 {
			x = r.next()
		}
		b = append(b, set[int(byte(x))%len(set)])
		x >>= 8
	}
	return b
}

func (r *rng) appendHex(b []byte, n int) []byte {
	var x uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			x = r.next()
		}
		b = append(b, hexDigits[x&15])
		x >>= 4
	}
	return b
}

// appendUUID appends a random (version 4) UUID, as CloudTrail's eventID.
func (r *rng) appendUUID(b []byte) []byte {
	hi, lo := r.next(), r.next()
	hi = hi&^(0xf<<12) | 4<<12
	lo = lo&^(3<<62) | 2<<62
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// appendHash appends n characters of set derived from key alone, for
// identifiers that must be stable (principal IDs, a session's access key).
func appendHash(b []byte, set string, n int, key ...uint64) []byte {
	r := newRNG(key...)
	return r.appendChars(b, set, n)
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// appendTime appends t (Unix seconds, UTC) as CloudTrail writes eventTime:
// 2024-01-01T00:00:00Z. Faster than time.AppendFormat, which matters at
// GB/s-scale output.
func appendTime(b []byte, t int64) []byte {
	days := t / 86400
	secs := t % 86400
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(secs/3600))
	b = append(b, ':')
	b = append2(b, int(secs/60%60))
	b = append(b, ':')
	b = append2(b, int(secs%60))
	return append(b, 'Z')
}

// civil converts days since 1970-01-01 to a date (Howard Hinnant's algorithm).
func civil(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	mm := mp + 3
	if mp >= 10 {
		mm = mp - 9
	}
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendExpiration appends t the way STS responses show credential
// expirations in CloudTrail: "Jan 1, 2024, 1:00:00 AM".
func appendExpiration(b []byte, t int64) []byte {
	tt := time.Unix(t, 0).UTC()
	b = append(b, monthNames[tt.Month()-1]...)
	b = append(b, ' ')
	b = appendInt(b, tt.Day())
	b = append(b, ", "...)
	b = appendInt(b, tt.Year())
	b = append(b, ", "...)
	h := tt.Hour() % 12
	if h == 0 {
		h = 12
	}
	b = appendInt(b, h)
	b = append(b, ':')
	b = append2(b, tt.Minute())
	b = append(b, ':')
	b = append2(b, tt.Second())
	if tt.Hour() < 12 {
		return append(b, " AM"...)
	}
	return append(b, " PM"...)
}
