package rules

import (
	"fmt"
	"strings"
)

// Error is one problem in a rule file, with its position.
type Error struct {
	File   string // the file's name as given to Parse or LoadFile
	Line   int    // 1-based; 0 when the problem concerns the whole file
	Column int    // 1-based, in characters; 0 when unknown
	Msg    string // what is wrong and, where it helps, what to do
}

func (e *Error) Error() string {
	switch {
	case e.Line <= 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column <= 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Errors are all the problems found in one or more rule files, in file order.
type Errors []*Error

// Error prints one problem per line, as file:line:col: message.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// err returns es as an error, or nil when it is empty (a nil Errors in an error is not nil).
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
