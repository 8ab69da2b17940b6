package merge

type SoupResult struct{}
