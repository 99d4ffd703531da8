package plotting

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// sampleCategories are the category names of WriteSampleCSV's table.
var sampleCategories = []string{
	"Books", "Garden", "Electronics", "Toys", "Grocery", "Clothing", "Shoes",
	"Beauty", "Sports", "Automotive", "Music", "Movies", "Health", "Office",
	"Pets", "Baby", "Jewelry", "Tools", "Kitchen", "Home Improvement",
}

// WriteSampleCSV writes the table Plotline's benchmarks read: a header
// "date,category,value" and rows rows of an ISO date within the three
// years from 2021-01-01 to 2023-12-31, one of 20 category names and a
// number from 0 to 1000 with two decimals. The same seed writes the same
// table; a million rows are about 30 MB.
func WriteSampleCSV(w io.Writer, rows int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("date,category,value\n")
	first := daysFromCivil(2021, 1, 1)
	span := daysFromCivil(2024, 1, 1) - first
	line := make([]byte, 0, 64)
	for range rows {
		y, m, d := civil(first + rng.Int64N(span))
		line = appendDate(line[:0], y, m, d)
		line = append(line, ',')
		line = append(line, sampleCategories[rng.IntN(len(sampleCategories))]...)
		line = append(line, ',')
		line = strconv.AppendFloat(line, float64(rng.IntN(100000))/100, 'f', 2, 64)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
