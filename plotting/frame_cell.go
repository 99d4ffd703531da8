package plotting

import (
	"strconv"
)

// classify reads a cell, as ReadCSVFrame says: its kind, and its value in
// iv (an int, a bool as 0 or 1, a date as days since 1970-01-01, a
// datetime as Unix milliseconds) or fv (a float).
func classify(b []byte, dec byte) (k kind, iv int64, fv float64) {
	t := trimSpace(b)
	if missingMarker(t) {
		return kNone, 0, 0
	}
	c := t[0]
	if c-'0' <= 9 || c == '-' || c == '+' || c == '.' || c == dec {
		if k, iv, fv := parseNumber(t, dec); k != kNone {
			return k, iv, fv
		}
		if c-'0' <= 9 {
			if k, v := parseDate(t); k != kNone {
				return k, v, 0
			}
		}
		return kText, 0, 0
	}
	if v, ok := parseBool(t); ok {
		if v {
			return kBool, 1, 0
		}
		return kBool, 0, 0
	}
	return kText, 0, 0
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// missingMarker tells whether a trimmed cell says its value is missing.
func missingMarker(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 1:
		return b[0] == '-'
	case 2:
		return string(b) == "NA"
	case 3:
		s := string(b)
		return s == "N/A" || s == "n/a" || s == "NaN" || s == "nan"
	case 4:
		s := string(b)
		return s == "null" || s == "NULL" || s == "None" || s == "#N/A"
	}
	return false
}

func parseBool(b []byte) (v, ok bool) {
	switch {
	case foldEq(b, "true"), foldEq(b, "yes"):
		return true, true
	case foldEq(b, "false"), foldEq(b, "no"):
		return false, true
	}
	return false, false
}

// foldEq tells whether b is the lower-case ASCII word w in any case.
func foldEq(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// groupWidth gives the bytes of the digit group separator b starts with,
// where the decimal mark is dec, or 0.
func groupWidth(b []byte, dec byte) int {
	switch b[0] {
	case ' ', '\'':
		return 1
	case ',':
		if dec == '.' {
			return 1
		}
	case '.':
		if dec == ',' {
			return 1
		}
	case 0xC2: // U+00A0 no-break space
		if len(b) > 1 && b[1] == 0xA0 {
			return 2
		}
	case 0xE2: // U+2009 thin space, U+202F narrow no-break space
		if len(b) > 2 && b[1] == 0x80 && (b[2] == 0x89 || b[2] == 0xAF) {
			return 3
		}
	}
	return 0
}

// parseNumber reads a trimmed cell as a number with the decimal mark dec:
// kInt with iv, kFloat with fv, or kNone. It allocates nothing for
// numbers of up to 19 significant digits and exponents within ±22.
func parseNumber(b []byte, dec byte) (k kind, iv int64, fv float64) {
	n := len(b)
	i := 0
	neg := false
	if n > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	digits, exp := 0, 0 // significant digits in mant; the power of ten it is scaled by
	inexact := false    // nonzero digits past the 19 mant holds
	intDigits, fracDigits := 0, 0
	group := -1 // digits since the last group separator; -1 before the first
	var gsep byte
	for i < n {
		c := b[i]
		if c-'0' <= 9 {
			intDigits++
			if group >= 0 {
				group++
			}
			i++
			if mant == 0 && c == '0' {
				continue
			}
			if digits < 19 {
				mant = mant*10 + uint64(c-'0')
				digits++
			} else {
				exp++
				inexact = inexact || c != '0'
			}
			continue
		}
		w := groupWidth(b[i:], dec)
		if w == 0 {
			break
		}
		if group < 0 {
			if intDigits == 0 || intDigits > 3 {
				return kNone, 0, 0
			}
			gsep = c
		} else if group != 3 || c != gsep {
			return kNone, 0, 0
		}
		group = 0
		i += w
	}
	if group >= 0 && group != 3 {
		return kNone, 0, 0
	}
	isFloat := false
	if i < n && b[i] == dec {
		isFloat = true
		i++
		for ; i < n; i++ {
			c := b[i]
			if c-'0' > 9 {
				break
			}
			fracDigits++
			if mant == 0 && c == '0' {
				exp--
				continue
			}
			if digits < 19 {
				mant = mant*10 + uint64(c-'0')
				digits++
				exp--
			} else {
				inexact = inexact || c != '0'
			}
		}
	}
	if intDigits+fracDigits == 0 {
		return kNone, 0, 0
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		isFloat = true
		i++
		eneg := false
		if i < n && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i == n {
			return kNone, 0, 0
		}
		e := 0
		for ; i < n && b[i]-'0' <= 9; i++ {
			if e < 100000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != n {
		return kNone, 0, 0
	}
	if !isFloat && !inexact && exp == 0 {
		if !neg && mant <= 1<<63-1 {
			return kInt, int64(mant), 0
		}
		if neg && mant <= 1<<63 {
			return kInt, -int64(mant-1) - 1, 0
		}
	}
	if !inexact && mant < 1<<53 && exp >= -22 && exp <= 22 {
		f := float64(mant)
		if exp < 0 {
			f /= pow10[-exp]
		} else {
			f *= pow10[exp]
		}
		if neg {
			f = -f
		}
		return kFloat, 0, f
	}
	return slowFloat(b, dec)
}

// slowFloat reads a number parseNumber has checked, dropping its group
// separators, with strconv.
func slowFloat(b []byte, dec byte) (kind, int64, float64) {
	var buf [64]byte
	out := buf[:0]
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == dec:
			out = append(out, '.')
		case c-'0' <= 9 || c == '-' || c == '+' || c == 'e' || c == 'E':
			out = append(out, c)
		default:
			if w := groupWidth(b[i:], dec); w > 0 {
				i += w
				continue
			}
		}
		i++
	}
	f, err := strconv.ParseFloat(string(out), 64)
	if err != nil {
		return kNone, 0, 0
	}
	return kFloat, 0, f
}

// digitsAt reads the decimal digits of b from i: their value and count,
// at most 9 of them.
func digitsAt(b []byte, i int) (v, n int) {
	for i+n < len(b) && n < 9 && b[i+n]-'0' <= 9 {
		v = v*10 + int(b[i+n]-'0')
		n++
	}
	return v, n
}

func validDate(y, m, d int) bool {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDate reads a trimmed cell as a date (kDate, days since 1970-01-01,
// or an ambiguous a/b/yyyy date packed as ambBase+…) or a datetime
// (kDatetime, Unix milliseconds), or gives kNone.
func parseDate(b []byte) (kind, int64) {
	n := len(b)
	a, la := digitsAt(b, 0)
	if la == 0 || la >= n {
		return kNone, 0
	}
	s := b[la]
	var y, m, d, pos int
	switch {
	case la == 4 && (s == '-' || s == '/'):
		var lm, ld int
		y = a
		m, lm = digitsAt(b, 5)
		pos = 5 + lm
		if lm < 1 || lm > 2 || pos >= n || b[pos] != s {
			return kNone, 0
		}
		d, ld = digitsAt(b, pos+1)
		if ld < 1 || ld > 2 {
			return kNone, 0
		}
		pos += 1 + ld
	case la <= 2 && (s == '.' || s == '/' || s == '-'):
		second, l2 := digitsAt(b, la+1)
		pos = la + 1 + l2
		if l2 < 1 || l2 > 2 || pos >= n || b[pos] != s {
			return kNone, 0
		}
		var ly int
		y, ly = digitsAt(b, pos+1)
		if ly != 4 {
			return kNone, 0
		}
		pos += 1 + ly
		if s != '.' {
			if pos != n || !validDate(y, a, second) && !validDate(y, second, a) {
				return kNone, 0
			}
			return kDate, ambBase + int64(y*10000+a*100+second)
		}
		d, m = a, second
	default:
		return kNone, 0
	}
	if !validDate(y, m, d) {
		return kNone, 0
	}
	days := daysFromCivil(y, m, d)
	if pos == n {
		return kDate, days
	}
	ms, ok := parseClock(b[pos:])
	if !ok {
		return kNone, 0
	}
	return kDatetime, days*86400000 + ms
}

// parseClock reads "T15:04", "T15:04:05", " 15:04:05.123Z", "T15:04+02:00"
// and the like: milliseconds from midnight UTC (less than zero or over a
// day when the zone moves the time to another day).
func parseClock(b []byte) (int64, bool) {
	if len(b) < 5 || b[0] != 'T' && b[0] != ' ' && b[0] != 't' {
		return 0, false
	}
	i := 1
	for i < len(b) && b[i] == ' ' {
		i++
	}
	h, lh := digitsAt(b, i)
	if lh < 1 || lh > 2 || i+lh >= len(b) || b[i+lh] != ':' {
		return 0, false
	}
	i += lh + 1
	mi, lm := digitsAt(b, i)
	if lm != 2 {
		return 0, false
	}
	i += 2
	sec, ms := 0, 0
	if i < len(b) && b[i] == ':' {
		var ls int
		sec, ls = digitsAt(b, i+1)
		if ls != 2 {
			return 0, false
		}
		i += 3
		if i < len(b) && (b[i] == '.' || b[i] == ',') {
			i++
			start := i
			for i < len(b) && b[i]-'0' <= 9 {
				if i-start < 3 {
					ms = ms*10 + int(b[i]-'0')
				}
				i++
			}
			if i == start {
				return 0, false
			}
			for k := i - start; k < 3; k++ {
				ms *= 10
			}
		}
	}
	if h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	v := int64(((h*60+mi)*60+sec)*1000 + ms)
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i == len(b) {
		return v, true
	}
	switch b[i] {
	case 'Z', 'z':
		return v, i+1 == len(b)
	case '+', '-':
		sign := int64(1)
		if b[i] == '-' {
			sign = -1
		}
		i++
		oh, l := digitsAt(b, i)
		om := 0
		switch {
		case l == 2 && i+2 == len(b):
		case l == 4 && i+4 == len(b):
			oh, om = oh/100, oh%100
		case l == 2 && i+5 == len(b) && b[i+2] == ':':
			var l2 int
			om, l2 = digitsAt(b, i+3)
			if l2 != 2 {
				return 0, false
			}
		default:
			return 0, false
		}
		if oh > 18 || om > 59 {
			return 0, false
		}
		return v - sign*int64(oh*60+om)*60000, true
	}
	return 0, false
}

// yearDays holds the days from 1970-01-01 to January 1 of each year from
// 1900 to 2199, and monthDays those from January 1 to each month's first
// in a common year.
var (
	yearDays  [300]int32
	monthDays = [13]int32{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}
)

func init() {
	for i := range yearDays {
		yearDays[i] = int32(daysFromCivil(1900+i, 1, 1))
	}
}

// isoDays is daysFromCivil by table for the common years, with the date's
// check.
func isoDays(y, m, d int) (int32, bool) {
	if y < 1900 || y >= 2200 || m < 1 || m > 12 || d < 1 || d > 28 && d > daysIn(y, m) {
		if !validDate(y, m, d) {
			return 0, false
		}
		return int32(daysFromCivil(y, m, d)), true
	}
	days := yearDays[y-1900] + monthDays[m] + int32(d) - 1
	if m > 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days++
	}
	return days, true
}
