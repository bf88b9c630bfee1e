package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// reloadSlots has a Cluster client reload its slot map after a failed
// operation. go-redis keeps sending a slot's commands to the master its
// map names until a node answers MOVED or the map's reload interval (a
// minute) passes; a master that died answers nothing, so without this a
// fleet would serve that slot from its fallbacks for up to a minute after
// a replica took over. The reload runs in the background, at most once
// per 200ms.
func reloadSlots(ctx context.Context, client goredis.UniversalClient) {
	if c, ok := client.(*goredis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}
