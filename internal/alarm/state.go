package alarm

import "fmt"

// State is the state of a metric alarm. The zero value is INSUFFICIENT_DATA, the state of a new
// alarm.
type State int

const (
	// StateInsufficientData is the state of a new alarm and of one with no data to decide on.
	StateInsufficientData State = iota
	// StateOK means the metric is within the threshold.
	StateOK
	// StateAlarm means the metric crossed the threshold.
	StateAlarm
)

// String returns the state as CloudWatch spells StateValue.
func (s State) String() string {
	switch s {
	case StateInsufficientData:
		return "INSUFFICIENT_DATA"
	case StateOK:
		return "OK"
	case StateAlarm:
		return "ALARM"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ParseState parses a StateValue as CloudWatch spells it.
func ParseState(s string) (State, error) {
	switch s {
	case "INSUFFICIENT_DATA":
		return StateInsufficientData, nil
	case "OK":
		return StateOK, nil
	case "ALARM":
		return StateAlarm, nil
	}
	return 0, fmt.Errorf("alarm: state %q is not one of OK, ALARM, INSUFFICIENT_DATA", s)
}

// MarshalText makes states read as CloudWatch's StateValue in JSON.
func (s State) MarshalText() ([]byte, error) {
	if s < StateInsufficientData || s > StateAlarm {
		return nil, fmt.Errorf("alarm: invalid state %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText is the inverse of MarshalText.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
