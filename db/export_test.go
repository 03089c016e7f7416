package db

// StepsHandedOver is how many write steps wait in the writer's queue,
// handed over and not yet taken: a test that must queue steps in a given
// order sends each only once the one before is in (WriterQueue counts a
// step before it is handed over, so it cannot say that).
func (s *Store) StepsHandedOver() int { return len(s.writer.steps) }
