"""Use cases. Each public function owns its transaction through a UnitOfWork."""
