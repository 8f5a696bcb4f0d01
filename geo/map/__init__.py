"""The analyst's map: its page, its URLs and the layers it draws (`layers`), read from the
counts the database keeps (`incidents.derived.map_cells`) or from the incidents."""
