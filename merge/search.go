package merge

type SearchResult struct{}
type SearchOptions struct{}
