package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trailalarm/trailalarm/internal/detect"
)

// progressBar draws files, records, MB/s and ETA on stderr while a scan runs.
type progressBar struct {
	bar  *progressbar.ProgressBar
	done chan struct{}
	quit chan struct{}
}

func startProgress(w io.Writer, inputs []detect.Input, p *detect.Progress) *progressBar {
	var total int64
	for _, in := range inputs {
		if n := in.Size(); n > 0 {
			total += n
		}
	}
	if total == 0 {
		total = -1 // unknown: a spinner
	}
	b := &progressBar{
		bar: progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionClearOnFinish(),
		),
		done: make(chan struct{}),
		quit: make(chan struct{}),
	}
	b.bar.Describe(fmt.Sprintf("0/%d files, 0 records", len(inputs)))
	b.bar.RenderBlank()
	go func() {
		defer close(b.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.quit:
				return
			case <-t.C:
				b.bar.Describe(fmt.Sprintf("%d/%d files, %d records", p.Files.Load(), len(inputs), p.Records.Load()))
				b.bar.Set64(p.Bytes.Load())
			}
		}
	}()
	return b
}

func (b *progressBar) stop() {
	close(b.quit)
	<-b.done
	b.bar.Finish()
}
